"""Shared fixtures, and the import order one process needs to run torch and Keras tests.

Keras tests need the legacy tf-keras (larq) whatever imports TensorFlow first. And once
TensorFlow's libraries are loaded, importing triton (which torchvision pulls in through
torch._dynamo) segfaults; loaded the other way round both work. Pipeline jobs never load both.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torchvision.models  # noqa: F401  (before TensorFlow: see above)
from prepared_digits import write_prepared_digits

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


@pytest.fixture(scope="session")
def digits_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data_dir holding prepared `digits` (shared read-only by the session's tests)."""
    return write_prepared_digits(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def dashboard_config(digits_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The config of a tiny results directory: torch-cpu and keras-cpu runs, one skipped run."""
    from dashboard_fixtures import write_results

    return write_results(digits_data_dir, tmp_path_factory.mktemp("dashboard"))
