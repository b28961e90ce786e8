"""Random crop (zero padding 4) and horizontal flip of uint8 NHWC images, in NumPy, drawn from
a generator seeded by (seed, epoch): the same crops on every host and after a resume."""

from __future__ import annotations

import numpy as np

PAD = 4


def epoch_rng(seed: int, epoch: int) -> np.random.Generator:
    """The augmentation draws of one epoch (a stream apart from `seeding.epoch_order`'s)."""
    return np.random.default_rng([seed, epoch, 1])


def random_crop_flip(x: np.ndarray, rng: np.random.Generator, pad: int = PAD) -> np.ndarray:
    """Per image: a random crop of the `pad`-padded image back to its size, and a horizontal
    flip with probability 1/2, as one gather."""
    n, h, w, _ = x.shape
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    rows = rng.integers(0, 2 * pad + 1, (n, 1)) + np.arange(h)
    cols = rng.integers(0, 2 * pad + 1, (n, 1)) + np.arange(w)
    flip = rng.random((n, 1)) < 0.5
    cols = np.where(flip, cols[:, ::-1], cols)
    return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
