"""One seed for every random number generator a run touches, and the sample order of an epoch
that every engine shares (so backends of one run see the same batches)."""

from __future__ import annotations

import os
import random
import sys

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and whichever of PyTorch and TensorFlow the process has loaded."""
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The sample order of epoch `epoch` (1, 2, ... as history.csv counts): a permutation of
    range(n) seeded by (seed, epoch) alone, so it does not depend on what else consumed random
    numbers, a resumed run draws it again, and any framework can reproduce it."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def usable_samples(n: int, batch_size: int) -> int:
    """How many of an epoch's `n` samples are trained on, in batches of `batch_size`: all but a
    trailing batch of exactly one (batch norm cannot train on it)."""
    return n - 1 if n % batch_size == 1 and n > 1 else n
