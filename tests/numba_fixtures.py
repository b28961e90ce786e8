"""Small data for the numba tests: scikit-learn's digits in the prepared on-disk form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from prepared_digits import write_prepared_digits

from tradeoffs.config import study_with_defaults
from tradeoffs.runspec import RunSpec


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
        study_config=study_with_defaults(
            {"train": {**cfg, **train}, "benchmark": {"warmup": 1, "repeats": 3}}
        ),
    )


RNG = np.random.default_rng(0)


def close(actual, expected, rtol: float = 1e-4) -> None:
    """Relative error: max |actual - expected| over max |expected|."""
    expected = np.asarray(expected.detach() if torch.is_tensor(expected) else expected)
    error = np.abs(np.asarray(actual) - expected).max() / max(np.abs(expected).max(), 1e-12)
    assert error < rtol, f"relative error {error:.2e}"


def rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)
