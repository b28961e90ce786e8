"""Datasets: download with checksums, then one prepared on-disk form every framework reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Log = Callable[[str], None]  # where progress lines go (print by default)


class DataError(RuntimeError):
    """A dataset cannot be downloaded or prepared; the message says what to fix."""


@dataclass(frozen=True)
class Arrays:
    """A dataset read into memory: uint8 NHWC images, int64 labels, class names by index."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    classes: list[str]
