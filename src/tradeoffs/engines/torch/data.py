"""The input shape a run's model takes, a prepared dataset as normalised tensors on the run's
device, batches by index permutation, and augmentation done in batch on the device (no
DataLoader, no per-sample Python)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from tradeoffs import usermodels
from tradeoffs.data.prepared import (
    adapt_images,
    channel_stats,
    load_array,
    load_meta,
    load_prepared,
)
from tradeoffs.data.validation import ValidationSplit
from tradeoffs.runspec import RunSpec
from tradeoffs.seeding import usable_samples


@dataclass(frozen=True)
class Split:
    x: torch.Tensor  # float32 NCHW, normalised, on the device
    y: torch.Tensor  # int64, on the device

    def __len__(self) -> int:
        return self.y.shape[0]


@dataclass(frozen=True)
class DeviceData:
    train: Split
    val: Split  # held out of the training images (`data.validation`); empty if nothing chooses
    test: Split
    validation: ValidationSplit
    mean: list[float]  # per channel, of the training images scaled to [0, 1]
    std: list[float]
    classes: list[str]


def to_tensor(
    x: np.ndarray,
    mean: list[float],
    std: list[float],
    device: torch.device,
    channels_last: bool = False,
) -> torch.Tensor:
    """uint8 NHWC images -> normalised float32 NCHW on `device`."""
    t = torch.from_numpy(np.ascontiguousarray(x)).to(device).permute(0, 3, 1, 2).float() / 255.0
    m = torch.tensor(mean, device=device).view(1, -1, 1, 1)
    s = torch.tensor(std, device=device).view(1, -1, 1, 1)
    t = ((t - m) / s).contiguous()
    return t.contiguous(memory_format=torch.channels_last) if channels_last else t


def load_split(
    folder: Path,
    split: str,
    shape: tuple[int, int, int],
    mean: list[float],
    std: list[float],
    device: torch.device,
    channels_last: bool = False,
) -> Split:
    """One split of a prepared dataset, adapted to `shape` and normalised with given stats."""
    x = adapt_images(load_array(folder, f"{split}_x"), shape)
    y = torch.from_numpy(load_array(folder, f"{split}_y").astype(np.int64)).to(device)
    return Split(to_tensor(x, mean, std, device, channels_last), y)


def load_device_data(
    folder: Path,
    shape: tuple[int, int, int],
    device: torch.device,
    limit_train: int | None,
    validation: Callable[[np.ndarray], ValidationSplit] | None = None,
    channels_last: bool = False,
) -> DeviceData:
    """Train, validation and test splits adapted to `shape`, normalised by the statistics of
    the images trained on; `validation` splits the (cut) training labels (None: nothing held
    out, for a run that chooses nothing)."""
    data = load_prepared(folder)
    cut_x, cut_y = data.train_x[:limit_train], data.train_y[:limit_train]
    everything = np.arange(len(cut_y))
    held = validation(cut_y) if validation else ValidationSplit(everything, everything[:0])
    train_x = adapt_images(cut_x[held.train], shape)
    val_x = adapt_images(cut_x[held.val], shape)
    test_x = adapt_images(data.test_x, shape)
    mean, std = channel_stats(train_x)

    def split(x: np.ndarray, y: np.ndarray) -> Split:
        labels = torch.from_numpy(y.astype(np.int64)).to(device)
        return Split(to_tensor(x, mean, std, device, channels_last), labels)

    return DeviceData(
        split(train_x, cut_y[held.train]),
        split(val_x, cut_y[held.val]),
        split(test_x, data.test_y),
        held,
        mean,
        std,
        data.classes,
    )


def random_crop_flip(
    x: torch.Tensor, generator: torch.Generator, pad: int | None = None
) -> torch.Tensor:
    """Per image: a random `pad`-padded crop back to the input size and a horizontal flip with
    probability 1/2, as one gather. `pad` defaults to an eighth of the height: CIFAR's 4 pixels
    at 32x32, and the same relative shift at any `train.image_size`. Random draws come from the
    CPU `generator` so CPU and GPU runs see the same crops."""
    n, c, h, w = x.shape
    pad = h // 8 if pad is None else pad
    padded = F.pad(x, (pad, pad, pad, pad))
    oy = torch.randint(0, 2 * pad + 1, (n, 1), generator=generator).to(x.device)
    ox = torch.randint(0, 2 * pad + 1, (n, 1), generator=generator).to(x.device)
    flip = (torch.rand(n, 1, generator=generator) < 0.5).to(x.device)
    rows = oy + torch.arange(h, device=x.device)
    cols = ox + torch.arange(w, device=x.device)
    cols = torch.where(flip, cols.flip(1), cols)
    batch = torch.arange(n, device=x.device).view(n, 1, 1, 1)
    channel = torch.arange(c, device=x.device).view(1, c, 1, 1)
    return padded[batch, channel, rows.view(n, 1, h, 1), cols.view(n, 1, 1, w)]


def batch_indices(order: np.ndarray, batch_size: int, device: torch.device) -> list[torch.Tensor]:
    """An epoch's sample order (`seeding.epoch_order`) as index batches on `device`, without a
    trailing batch of one (`seeding.usable_samples`)."""
    used = torch.from_numpy(order[: usable_samples(len(order), batch_size)]).to(device)
    return list(used.split(batch_size))


def steps_per_epoch(n: int, batch_size: int) -> int:
    """How many batches `batch_indices` makes of `n` samples."""
    return math.ceil(usable_samples(n, batch_size) / batch_size)


def input_shape(spec: RunSpec, image_size: int | None) -> tuple[int, int, int]:
    """(H, W, C) the run's model takes: its registry shape (a declared or pretrained model: the
    dataset's stored shape), with `train.image_size` as the side when set."""
    if spec.pretrained is not None:
        native = None  # a trained file takes the dataset's images
    else:
        impls = usermodels.model_impls(spec.model, spec.declared_models)
        native = impls[spec.framework].input_shape
    if native is None:
        native = tuple(load_meta(spec.prepared_dir())["shape"])
    return (image_size, image_size, native[2]) if image_size else native
