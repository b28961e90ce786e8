"""Small data for the numba tests: scikit-learn's digits in the prepared on-disk form."""

from __future__ import annotations

from pathlib import Path

from prepared_digits import write_prepared_digits

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
        study_config={"train": {**cfg, **train}, "benchmark": {"warmup": 1, "repeats": 3}},
    )
