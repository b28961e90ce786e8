"""A prepared dataset as the Keras engine trains on it: the (`limit_train`-cut) training images
split into those trained on and the validation split, the test split, all adapted to the
model's input; and each epoch's images in the run's sample order, augmented by a seeded random
crop (zero padding 4) and horizontal flip, drawn from (seed, epoch): the same crops on every
host and after a resume."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tradeoffs.data.prepared import adapt_images, load_prepared
from tradeoffs.data.validation import ValidationSplit, split_validation
from tradeoffs.engines.settings import TrainSettings
from tradeoffs.models.keras import input_shape
from tradeoffs.runspec import RunSpec
from tradeoffs.seeding import epoch_order

PAD = 4


def run_shape(spec: RunSpec) -> tuple[int, int, int]:
    """(H, W, C) of the images the run's model takes: one definition for training, every
    inference path and an imported file's check."""
    return input_shape(TrainSettings.of(spec).image_size)


def model_shape(model: Any, spec: RunSpec) -> tuple[int, int, int]:
    """(H, W, C) a loaded model takes: the shape its file fixes (a model trained or imported
    with another config keeps its own), else, for a model of any size, the run's."""
    shape = tuple(model.input_shape[1:])
    return shape if all(isinstance(side, int) for side in shape) else run_shape(spec)


def model_input(images: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """uint8 NHWC images of any size and channel count as a model of input `shape` takes
    them (float32)."""
    return adapt_images(images, shape).astype(np.float32)


@dataclass(frozen=True)
class TrainData:
    """The training images (uint8: augmented per epoch) and labels, the validation and test
    splits as model input, and which cut training images are held out (`held`)."""

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    held: ValidationSplit
    num_classes: int


def load_train_data(spec: RunSpec, s: TrainSettings) -> TrainData:
    data = load_prepared(spec.prepared_dir())
    cut_x, cut_y = data.train_x[: s.limit_train], data.train_y[: s.limit_train]
    held = split_validation(cut_y, s.held_out_fraction, spec.seed)
    shape = run_shape(spec)
    return TrainData(
        train_x=adapt_images(cut_x[held.train], shape),
        train_y=cut_y[held.train],
        val_x=model_input(cut_x[held.val], shape),
        val_y=cut_y[held.val],
        test_x=model_input(data.test_x, shape),
        test_y=data.test_y,
        held=held,
        num_classes=data.num_classes,
    )


def epoch_images(
    data: TrainData, seed: int, epoch: int, used: int, augment: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Epoch `epoch`'s `used` training images (float32, augmented when asked) and labels, in
    the order `seeding.epoch_order` gives every engine."""
    order = epoch_order(seed, epoch, len(data.train_y))[:used]
    x = data.train_x[order]
    if augment:
        x = random_crop_flip(x, epoch_rng(seed, epoch))
    return x.astype(np.float32), data.train_y[order]


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
