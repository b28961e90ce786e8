"""A run's evaluation records: on one dataset, eval/{dataset}.json, its confusion matrix, its
per-class report and its per-example predictions (`records.predictions`); on the corrupted
sets, eval_corrupted.json ({set: record} with eval/{d}.json's summary keys) and one predictions
file for every set, eval_corrupted_predictions.npz, beside it. The sha256 of each predictions
file is in its record."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tradeoffs import io
from tradeoffs.records import predictions
from tradeoffs.records.predictions import ExamplePredictions

REPORT_COLUMNS = ["class", "precision", "recall", "f1", "support"]


def not_run_summary(status: str, reason: str | None, classes: list[str]) -> dict[str, Any]:
    """The summary keys of an evaluation of a run that was not trained (skipped, failed)."""
    return {"status": status, "reason": reason, "classes": classes}


def not_run_tables(classes: list[str]) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """The empty confusion matrix (no rows) and per-class report of a run that was not
    trained."""
    return np.zeros((0, len(classes)), dtype=np.int64), []


def write_eval(
    run_dir: Path,
    dataset: str,
    summary: dict[str, Any],
    confusion: np.ndarray,
    report: Sequence[Mapping[str, Any]],
    examples: ExamplePredictions,
) -> dict[str, Any]:
    """Write eval/{dataset}.json (`summary`, with the dataset and its predictions file's name and
    sha256 added), the confusion matrix (its rows and columns the summary's `classes`), the
    report and the predictions; the record written."""
    summary["dataset"] = dataset
    out = run_dir / "eval"
    name = f"{dataset}{predictions.SUFFIX}"
    summary.update(predictions=name, predictions_sha256=predictions.write(out / name, examples))
    classes = summary["classes"]
    rows = ([classes[i], *counts] for i, counts in enumerate(confusion.tolist()))
    _write_csv(out / f"{dataset}_confusion.csv", ["true", *classes], rows)
    _write_csv(
        out / f"{dataset}_report.csv",
        REPORT_COLUMNS,
        ([row[column] for column in REPORT_COLUMNS] for row in report),
    )
    io.write_json(out / f"{dataset}.json", summary)
    return summary


def _write_csv(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    with io.atomic_path(path) as tmp, tmp.open("w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_corrupted(
    output: Path,
    results: Mapping[str, dict[str, Any]],
    examples: Mapping[str, ExamplePredictions],
) -> None:
    """eval_corrupted.json (`output`: {set: record}) and every set's predictions beside it."""
    path = output.with_name(predictions.CORRUPTED_FILE)
    digest = predictions.write_sets(path, examples)
    for record in results.values():
        record.update(predictions=path.name, predictions_sha256=digest)
    io.write_json(output, results)
