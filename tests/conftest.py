"""Shared fixtures: a small prepared `digits` dataset in the on-disk format of
docs/architecture.md ("Prepared datasets"), built from scikit-learn's bundled digits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits


def write_prepared_digits(data_dir: Path, test_fraction: float = 0.2, seed: int = 0) -> Path:
    """Write `{data_dir}/prepared/digits/` (uint8 NHWC 8x8x1 arrays, meta.json last)."""
    digits = load_digits()
    x = np.round(digits.images * (255 / 16)).astype(np.uint8)[..., None]
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(len(y) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    folder = data_dir / "prepared" / "digits"
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"train_x": x[train], "train_y": y[train], "test_x": x[test], "test_y": y[test]}
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", array)
    meta = {
        "name": "digits",
        "format": "digits",
        "classes": [str(i) for i in range(10)],
        "num_classes": 10,
        "shape": [8, 8, 1],
        "train_count": int(train.size),
        "test_count": int(test.size),
        "sources": None,
        "spec": {"format": "digits"},
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    return folder


@pytest.fixture(scope="session")
def digits_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data_dir holding prepared `digits` (shared read-only by the session's tests)."""
    data_dir = tmp_path_factory.mktemp("data")
    write_prepared_digits(data_dir)
    return data_dir
