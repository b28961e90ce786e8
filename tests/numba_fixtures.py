"""Small data for the numba tests: scikit-learn's digits in the prepared on-disk form."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

from tradeoffs.runspec import RunSpec


def write_prepared_digits(data_dir: Path, test_count: int = 360) -> Path:
    """data_dir/prepared/digits/: 8x8 uint8 NHWC arrays (0..16 scaled to 0..255) + meta.json."""
    digits = load_digits()
    images = (digits.images * (255 / 16)).round().astype(np.uint8)[..., None]
    labels = digits.target.astype(np.int64)
    folder = data_dir / "prepared" / "digits"
    folder.mkdir(parents=True, exist_ok=True)
    split = len(labels) - test_count
    arrays = {
        "train_x": images[:split],
        "train_y": labels[:split],
        "test_x": images[split:],
        "test_y": labels[split:],
    }
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", array)
    meta = {
        "name": "digits",
        "format": "digits",
        "classes": [str(c) for c in range(10)],
        "num_classes": 10,
        "shape": [8, 8, 1],
        "train_count": split,
        "test_count": test_count,
        "sources": None,
        "spec": {"format": "digits"},
    }
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder


def digits_spec(tmp: Path, backend: str = "numba-cpu", **train: object) -> RunSpec:
    """A backends-study run of mnist_cnn on the digits written under `tmp`."""
    write_prepared_digits(tmp / "data")
    cfg = {"epochs": 4, "batch_size": 32, "optimizer": "sgd", "lr": 0.01, "momentum": 0.9}
    return RunSpec(
        study="backends",
        dataset="digits",
        model="mnist_cnn",
        act="relu",
        precision="fp32",
        backend=backend,
        seed=0,
        run_dir=tmp / "run",
        data_dir=tmp / "data",
        threads=2,
        study_config={"train": {**cfg, **train}, "benchmark": {"warmup": 1, "repeats": 3}},
    )
