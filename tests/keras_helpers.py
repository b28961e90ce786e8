"""Test helpers for the Keras engine: a tiny prepared `digits` folder and run specs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import load_digits

from tradeoffs.runspec import RunSpec


def write_prepared_digits(data_dir: Path, train: int = 96, test: int = 40) -> Path:
    """scikit-learn's digits in the prepared form of docs/architecture.md (uint8 NHWC 8x8x1)."""
    digits = load_digits()
    x = np.round(digits.images * (255 / 16)).astype(np.uint8)[..., None]
    y = digits.target.astype(np.int64)
    folder = data_dir / "prepared" / "digits"
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_x": x[:train],
        "train_y": y[:train],
        "test_x": x[-test:],
        "test_y": y[-test:],
    }
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", array)
    meta = {
        "name": "digits",
        "format": "digits",
        "classes": [str(i) for i in range(10)],
        "num_classes": 10,
        "shape": [8, 8, 1],
        "train_count": train,
        "test_count": test,
        "sources": None,
        "spec": {},
    }
    (folder / "meta.json").write_text(json.dumps(meta))
    return data_dir


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
        study_config=study_config,
    )
