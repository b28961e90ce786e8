"""Read the one prepared form of a dataset, and adapt its images to a model's input shape."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tradeoffs import io
from tradeoffs.data import integrity

ARRAYS = ("train_x", "train_y", "test_x", "test_y")


@dataclass(frozen=True)
class Prepared:
    train_x: np.ndarray  # uint8 NHWC
    train_y: np.ndarray  # int64 N
    test_x: np.ndarray
    test_y: np.ndarray
    meta: dict[str, Any]

    @property
    def classes(self) -> list[str]:
        return self.meta["classes"]

    @property
    def num_classes(self) -> int:
        return len(self.meta["classes"])


def load_meta(folder: str | Path) -> dict[str, Any]:
    return io.read_json(Path(folder) / "meta.json")


def load_array(folder: str | Path, name: str, meta: dict[str, Any] | None = None) -> np.ndarray:
    """One array of a prepared folder, checked against the checksum, shape and dtype that
    meta.json recorded (`integrity.PreparedDataError` says how to rebuild a damaged one)."""
    meta = load_meta(folder) if meta is None else meta
    path = integrity.verify(folder, name, meta)
    return integrity.check_loaded(path, np.load(path), meta["arrays"][name])


def load_prepared(folder: str | Path) -> Prepared:
    meta = load_meta(folder)
    arrays = {name: load_array(folder, name, meta) for name in ARRAYS}
    return Prepared(**arrays, meta=meta)


def adapt_images(x: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Resize uint8 NHWC images to `shape` (H, W, C) bilinearly; 1 -> 3 channels repeats the
    grey value, 3 -> 1 takes the luminance (ITU-R 601-2, as PIL's "L")."""
    height, width, channels = shape
    if x.shape[1:] == (height, width, channels):
        return x
    if x.shape[3] not in (1, 3) or channels not in (1, 3):
        raise ValueError(f"cannot adapt {x.shape[3]}-channel images to {channels} channels")
    out = np.empty((x.shape[0], height, width, channels), dtype=np.uint8)
    for i, image in enumerate(x):
        pil = Image.fromarray(image[..., 0] if image.shape[2] == 1 else image)
        if channels == 1:
            pil = pil.convert("L")
        elif pil.mode != "RGB":
            pil = pil.convert("RGB")
        if pil.size != (width, height):
            pil = pil.resize((width, height), Image.BILINEAR)
        pixels = np.asarray(pil)
        out[i] = pixels[..., None] if channels == 1 else pixels
    return out


def channel_stats(x: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of uint8 NHWC images scaled to [0, 1] (std at least 1e-3): the
    training set's statistics every engine standardises its inputs with."""
    scaled = x.reshape(-1, x.shape[-1]).astype(np.float64) / 255.0
    return scaled.mean(axis=0).tolist(), np.maximum(scaled.std(axis=0), 1e-3).tolist()
