"""One run's trained model on images that are not in its dataset: loaded through the run's own
engine (`tradeoffs.engines.load(framework).predictor`), with the run's preprocessing, and timed
with the project's timing method (`tradeoffs.measure.timing`).

A run needs the settings it was trained with (its study's config) and its dataset's prepared
meta.json (classes, stored image shape); both come from the config the pipeline ran with.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torchvision.models  # noqa: F401  (before TensorFlow loads: see tests/conftest.py)

from tradeoffs import engines, registry
from tradeoffs.config import run_study_config
from tradeoffs.data.prepared import load_meta
from tradeoffs.identity import RunId
from tradeoffs.measure.timing import time_calls
from tradeoffs.runspec import RunSpec

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # Keras runs need the tf-keras larq uses

WARMUP, REPEATS = 2, 10  # per image: untimed calls, then timed calls whose median is reported
TOP_K = 5


class ModelError(RuntimeError):
    """A run whose model cannot be used here, with the reason and the fix."""


@dataclass(frozen=True)
class LoadedModel:
    run: str
    classes: list[str]
    shape: tuple[int, int, int]  # the dataset's stored image shape (H, W, C)
    probs: Callable[[np.ndarray], np.ndarray]  # uint8 N x H x W x C -> N x classes


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    top5: list[tuple[str, float]]
    ms: float  # median of REPEATS timed calls on this one image, preprocessing included
    ms_p95: float


def run_spec(row: Mapping[str, Any], config: Mapping[str, Any]) -> RunSpec:
    """The RunSpec the pipeline gave this run's jobs, rebuilt from the checked config; refused
    when the config's study settings are not those the run recorded (its config hash)."""
    study = config["studies"].get(row["study"])
    if study is None:
        raise ModelError(
            f"{row['run']}: study {row['study']!r} is not in the config; start the dashboard "
            "with the config the results were made with (--config FILE)."
        )
    spec = RunSpec(
        **RunId.of(row).keys(),
        run_dir=Path(row["path"]),
        data_dir=Path(config["data_dir"]),
        study_config=run_study_config(study, row["model"]),
    )
    recorded = row.get("provenance.config_hash")
    if isinstance(recorded, str) and recorded != spec.config_hash:
        raise ModelError(
            f"{row['run']}: trained with other {row['study']!r} settings than the config's "
            "(config hash differs); start the dashboard with the config the results were made "
            "with (--config FILE)."
        )
    return spec


def load_model(row: Mapping[str, Any], config: Mapping[str, Any]) -> LoadedModel:
    """The run's model, ready to predict; a missing or corrupt file is a ModelError."""
    spec = run_spec(row, config)
    path = spec.model_path
    if not path.is_file() or path.stat().st_size == 0:
        raise ModelError(
            f"{row['run']}: model file {path} is missing or empty; rerun its train job."
        )
    try:
        meta = load_meta(spec.prepared_dir())
    except (OSError, ValueError) as error:
        raise ModelError(
            f"{row['run']}: prepared meta.json not readable ({error}); prepare it: "
            f"snakemake {spec.prepared_dir()}/meta.json"
        ) from None
    try:
        probs = engines.load(registry.BACKENDS[spec.backend].framework).predictor(spec)
    except ImportError as error:
        raise ModelError(f"{row['run']}: its framework is not installed here ({error}).") from None
    except Exception as error:  # noqa: BLE001  (any failure to read a user's file is reported)
        raise ModelError(
            f"{row['run']}: model file {path} could not be loaded ({type(error).__name__}: "
            f"{error}); it may be corrupt: rerun its train job."
        ) from None
    return LoadedModel(row["run"], list(meta["classes"]), tuple(meta["shape"]), probs)


def predict(model: LoadedModel, image: np.ndarray) -> Prediction:
    """Class, confidence, top 5 and time of one uint8 image in the dataset's stored shape."""
    batch = image[None]
    timing = time_calls(lambda: model.probs(batch), warmup=WARMUP, repeats=REPEATS)
    probs = np.asarray(model.probs(batch)[0], dtype=np.float64)
    order = np.argsort(-probs, kind="stable")[:TOP_K]
    top = [(model.classes[i], float(probs[i])) for i in order]
    return Prediction(top[0][0], top[0][1], top, timing.p50_ms, timing.p95_ms)
