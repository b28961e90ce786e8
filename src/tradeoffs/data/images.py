"""Decode image files into one uint8 NHWC array.

Images of one dataset may differ in size and mode. All are made RGB when any is in colour (a
grey image repeats its value), else kept grey; and all are resized (bilinear) to the size most
of them have, so a few odd images do not change the dataset's shape. No information is cut
silently: 16-bit grey values are scaled to 8 bits (not clipped at 255), and a transparent image
is composited onto black; the caller logs how many images were converted (`Notes`).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from tradeoffs.data import DataError, Log

EXTENSIONS = (".png", ".jpg", ".jpeg")
_GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
_WIDE_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N"}  # 16-bit PNG grey (PIL: I;16 or I)
_WIDE_MAX = 65535
Notes = Counter  # conversions worth a log line: {what was done: how many images}


def decode(source: bytes | Path, name: str, notes: Notes | None = None) -> np.ndarray:
    """One image as uint8 HxWx1 (grey) or HxWx3; DataError naming it when it cannot be read.
    Conversions that change pixel values are counted in `notes`."""
    notes = Counter() if notes is None else notes
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            image.load()
            pixels = _pixels(image, notes)
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise DataError(f"cannot read image {name}: {error}") from error
    return pixels[..., None] if pixels.ndim == 2 else pixels


def _pixels(image: Image.Image, notes: Notes) -> np.ndarray:
    """uint8 HxW (grey) or HxWx3 pixels of an opened image."""
    grey = image.mode in _GREY_MODES
    if image.mode in _WIDE_MODES:
        notes["16-bit grey scaled to 8 bits"] += 1
        wide = np.clip(np.asarray(image, dtype=np.float64), 0, _WIDE_MAX)
        return np.rint(wide * (255 / _WIDE_MAX)).astype(np.uint8)
    if image.has_transparency_data:
        notes["transparent pixels composited onto black"] += 1
        rgba = np.asarray(image.convert("LA" if grey else "RGBA"), dtype=np.float64)
        composited = np.rint(rgba[..., :-1] * rgba[..., -1:] / 255).astype(np.uint8)
        return composited[..., 0] if grey else composited
    return np.asarray(image.convert("L" if grey else "RGB"), dtype=np.uint8)


def log_notes(notes: Notes, total: int, log: Log) -> None:
    """One line per kind of conversion `decode` made."""
    for what, n in sorted(notes.items()):
        log(f"{what}: {n} of {total} images")


def stack(images: Iterable[np.ndarray], log: Log = print) -> np.ndarray:
    """Stack decoded images into NHWC, unifying channels and size (see the module's note)."""
    images = list(images)
    if not images:
        return np.zeros((0, 1, 1, 1), dtype=np.uint8)
    channels = max(image.shape[2] for image in images)
    sizes = Counter(image.shape[:2] for image in images)
    (height, width), _ = sizes.most_common(1)[0]
    odd = sum(n for size, n in sizes.items() if size != (height, width))
    if odd:
        log(f"resizing {odd} of {len(images)} images to the most common size {height}x{width}")
    out = np.empty((len(images), height, width, channels), dtype=np.uint8)
    for i, image in enumerate(images):
        if image.shape[:2] != (height, width):
            pil = Image.fromarray(image[..., 0] if image.shape[2] == 1 else image)
            resized = np.asarray(pil.resize((width, height), Image.BILINEAR))
            image = resized[..., None] if resized.ndim == 2 else resized
        out[i] = image  # a grey image broadcasts over 3 channels
    return out
