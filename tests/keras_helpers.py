"""Test helpers for the Keras engine: a tiny prepared `digits` folder and run specs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tradeoffs.config import study_with_defaults
from tradeoffs.runspec import RunSpec


def make_spec(
    data_dir: Path, run_dir: Path, model: str, study: str = "binary", **config: Any
) -> RunSpec:
    """A keras-cpu run of `model` on digits; `config` overrides the study's sections."""
    study_config: dict[str, Any] = {
        "train": {"epochs": 1, "batch_size": 32, "optimizer": "adam", "lr": 0.001},
        "benchmark": {"warmup": 1, "repeats": 3, "batch_size": 8},
        "transfer": {"weights": "none", "input_size": 32, "fine_tune_layers": 5},
    }
    for section, values in config.items():
        study_config[section] = {**study_config.get(section, {}), **values}
    return RunSpec(
        study=study,
        dataset="digits",
        model=model,
        act="relu",
        precision="fp32",
        backend="keras-cpu",
        seed=0,
        run_dir=run_dir,
        data_dir=data_dir,
        threads=1,
        study_config=study_with_defaults(study_config),
    )
