"""Deterministic subsets: the first N images of each class, in a fixed order."""

from __future__ import annotations

from typing import TypeVar

import numpy as np

T = TypeVar("T")


def first_per_class(labels: np.ndarray, n: int | None) -> np.ndarray:
    """Indices (ascending) of the first `n` items of each class; all of them when `n` is None."""
    if n is None:
        return np.arange(len(labels))
    keep = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        keep[np.flatnonzero(labels == label)[:n]] = True
    return np.flatnonzero(keep)


def seeded_order(names: list[T], seed: int) -> list[T]:
    """`names` sorted, then shuffled with `seed`: the same order on every machine.

    Folder datasets use it so that "the first N per class" is a fair sample; in file-name order
    CINIC-10's first test images of a class would all be its CIFAR-10 part (cifar10-* < n*).
    """
    ordered = sorted(names)
    permutation = np.random.default_rng(seed).permutation(len(ordered))
    return [ordered[i] for i in permutation]
