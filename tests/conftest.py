"""Shared fixtures. Keras tests need the legacy tf-keras (larq), whatever imports TF first."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from prepared_digits import write_prepared_digits

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


@pytest.fixture(scope="session")
def digits_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data_dir holding prepared `digits` (shared read-only by the session's tests)."""
    return write_prepared_digits(tmp_path_factory.mktemp("data"))
