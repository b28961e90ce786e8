"""The validation split: training images held out so that choosing an epoch (`best_checkpoint`)
and stopping early (`early_stopping`) never look at the test set.

Seeded by the run's seed and stratified by class (scikit-learn's `StratifiedShuffleSplit`), taken
from the (`limit_train`-cut) training images, and held out only when one of those two options is
set: nothing else chooses on it. Every engine calls `split_validation`, so the torch and numba
runs of one spec train on the same images.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from tradeoffs.data import DataError


@dataclass(frozen=True)
class ValidationSplit:
    """Indices into the (cut) training images: `train` to train on, `val` to choose on (empty
    when nothing chooses), both ascending."""

    train: np.ndarray
    val: np.ndarray

    @property
    def sha256(self) -> str | None:
        """sha256 of the validation indices as little-endian int64 (provenance), None if empty."""
        if not len(self.val):
            return None
        return hashlib.sha256(self.val.astype("<i8").tobytes()).hexdigest()

    def provenance(self, fraction: float) -> dict[str, Any]:
        """What train.json's provenance keeps of the split."""
        return {
            "fraction": fraction if len(self.val) else 0.0,
            "n": len(self.val),
            "sha256": self.sha256,
        }


def split_validation(labels: np.ndarray, fraction: float | None, seed: int) -> ValidationSplit:
    """The run's split of `labels` (the cut training labels): `fraction` of them held out, none
    when it is None (`TrainSettings.held_out_fraction`: nothing chooses). DataError when the
    training set is too small to hold out one image of every class."""
    everything = np.arange(len(labels))
    if fraction is None:
        return ValidationSplit(everything, everything[:0])
    from sklearn.model_selection import StratifiedShuffleSplit

    try:
        splitter = StratifiedShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
        train, val = next(splitter.split(np.zeros(len(labels)), labels))
    except ValueError as error:
        raise DataError(
            f"cannot hold out a stratified validation split of {fraction:g} of {len(labels)} "
            f"training images ({error}); raise train.validation_fraction or train.limit_train, "
            "or turn off best_checkpoint and early_stopping"
        ) from None
    return ValidationSplit(np.sort(train), np.sort(val))
