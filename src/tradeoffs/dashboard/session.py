"""The session's predictions as a table, and what the overview and comparison tabs say about it
(plain pandas, so it is tested without Streamlit)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from tradeoffs.dashboard.markdown import literal
from tradeoffs.dashboard.predict import Prediction

COLUMNS = ("image", "run", "model", "precision", "backend", "class", "confidence", "top5", "ms")


def row(image: str, run: Mapping[str, Any], prediction: Prediction) -> dict[str, Any]:
    """One table row: an image, the run that saw it, and what the run said."""
    return {
        "image": image,
        "run": run["run"],
        "model": run["model"],
        "precision": run["precision"],
        "backend": run["backend"],
        "class": prediction.label,
        "confidence": round(prediction.confidence, 4),
        "top5": ", ".join(f"{label} {p:.3f}" for label, p in prediction.top5),
        "ms": round(prediction.ms, 3),
    }


def table(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(COLUMNS))


def to_csv(predictions: pd.DataFrame) -> bytes:
    return predictions.to_csv(index=False).encode()


def summary_lines(predictions: pd.DataFrame, last: int) -> list[str]:
    """The last `last` images in words, one Markdown line each: every run's class, confidence
    and time. Names (files, runs, classes) come from uploads and data: they are made literal."""
    images = list(dict.fromkeys(predictions["image"]))[-last:]
    return [
        f"**{literal(image)}**: "
        + "; ".join(
            f"{literal(r['run'])} → **{literal(r['class'])}** "
            f"({r['confidence']:.2f}, {r['ms']:.2f} ms)"
            for r in predictions[predictions["image"] == image].to_dict("records")
        )
        for image in images
    ]


def per_model(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per run: images seen, mean confidence, median and slowest time (the comparison tab)."""
    grouped = predictions.groupby("run", sort=True)
    return pd.DataFrame(
        {
            "images": grouped.size(),
            "mean_confidence": grouped["confidence"].mean(),
            "median_ms": grouped["ms"].median(),
            "max_ms": grouped["ms"].max(),
        }
    ).reset_index()


def agreement(predictions: pd.DataFrame) -> float | None:
    """The share of images on which every run that saw the image predicted the same class (None
    when no image was seen by two runs)."""
    shared = predictions.groupby("image")["run"].nunique()
    shared = shared[shared > 1].index
    if len(shared) == 0:
        return None
    classes = predictions[predictions["image"].isin(shared)].groupby("image")["class"].nunique()
    return float((classes == 1).mean())


def overview(predictions: pd.DataFrame) -> dict[str, Any]:
    """Counts, the fastest run (lowest median time) and the agreement between runs."""
    models = per_model(predictions)
    fastest = models.loc[models["median_ms"].idxmin()] if len(models) else None
    return {
        "images": predictions["image"].nunique(),
        "runs": predictions["run"].nunique(),
        "predictions": len(predictions),
        "fastest": None if fastest is None else fastest["run"],
        "fastest_ms": None if fastest is None else float(fastest["median_ms"]),
        "agreement": agreement(predictions),
    }
