"""Decode image files into one uint8 NHWC array.

Images of one dataset may differ in size and mode. All are made RGB when any is in colour (a
grey image repeats its value), else kept grey; and all are resized (bilinear) to the size most
of them have, so a few odd images do not change the dataset's shape.
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
_GREY_MODES = {"1", "L", "LA", "I", "I;16", "F"}


def decode(source: bytes | Path, name: str) -> np.ndarray:
    """One image as uint8 HxWx1 (grey) or HxWx3; DataError naming it when it cannot be read."""
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            image.load()
            grey = image.mode in _GREY_MODES
            pixels = np.asarray(image.convert("L" if grey else "RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise DataError(f"cannot read image {name}: {error}") from error
    return pixels[..., None] if grey else pixels


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
