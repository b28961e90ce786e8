"""Decode image files into one uint8 NHWC array.

Images of one dataset may differ in size and mode. All are made RGB when any is in colour (a
grey image repeats its value), else kept grey; and all are resized (bilinear) to the size most
of them have, so a few odd images do not change the dataset's shape. No information is cut
silently: 16-bit grey values are scaled to 8 bits (not clipped at 255), and a transparent image
is composited onto black; the caller logs how many images were converted (`Notes`).

Decoding has a budget, checked from the headers before any pixel is decoded: an image above
`MAX_IMAGE_PIXELS` (a decompression bomb: a small file that decodes to gigabytes) is refused,
and so is a dataset whose array would pass `MAX_DATASET_BYTES`. `read_images` decodes one file
at a time into the preallocated array, so memory is the array plus one image.
"""

from __future__ import annotations

import io
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from tradeoffs.data import DataError, Log

EXTENSIONS = (".png", ".jpg", ".jpeg")
_GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
_WIDE_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N"}  # 16-bit PNG grey (PIL: I;16 or I)
_WIDE_MAX = 65535
Notes = Counter  # conversions worth a log line: {what was done: how many images}
MAX_IMAGE_PIXELS = 4096 * 4096  # one image; the models read images of a few dozen pixels
MAX_DATASET_BYTES = 4 * 2**30  # the decoded uint8 array of a dataset's images


def _open(source: bytes | Path, name: str) -> Image.Image:
    """The image opened (header read, nothing decoded), within the pixel budget."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise DataError(_too_large(name, "far more than")) from None
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise DataError(f"cannot read image {name}: {error}") from error
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        image.close()
        raise DataError(_too_large(name, f"{width} x {height} pixels,"))
    return image


def _too_large(name: str, size: str) -> str:
    return (
        f"image {name} is {size} the budget of {MAX_IMAGE_PIXELS:,} pixels per image "
        "(a decompression bomb, or a photo far larger than a classifier reads); downscale it "
        "or leave it out of the dataset"
    )


def decode(source: bytes | Path, name: str, notes: Notes | None = None) -> np.ndarray:
    """One image as uint8 HxWx1 (grey) or HxWx3; DataError naming it when it cannot be read.
    Conversions that change pixel values are counted in `notes`."""
    notes = Counter() if notes is None else notes
    try:
        with _open(source, name) as image:
            image.load()
            pixels = _pixels(image, notes)
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise DataError(f"cannot read image {name}: {error}") from error
    return pixels[..., None] if pixels.ndim == 2 else pixels


def _plan(sizes: Counter, colour: bool, count: int, log: Log) -> tuple[int, int, int]:
    """(height, width, channels) of the dataset: the most common size, RGB if any is colour."""
    (height, width), _ = sizes.most_common(1)[0]
    odd = sum(n for size, n in sizes.items() if size != (height, width))
    if odd:
        log(f"resizing {odd} of {count} images to the most common size {height}x{width}")
    return height, width, 3 if colour else 1


def read_images(paths: Sequence[Path], notes: Notes, log: Log = print) -> np.ndarray:
    """The images at `paths` as one NHWC array (see the module's note), the budgets checked
    from every header first, each image decoded straight into its row of the array."""
    if not paths:
        return np.zeros((0, 1, 1, 1), dtype=np.uint8)
    sizes: Counter = Counter()
    colour = False
    for path in paths:
        with _open(path, str(path)) as image:
            sizes[image.size[::-1]] += 1
            colour = colour or image.mode not in _GREY_MODES
    height, width, channels = _plan(sizes, colour, len(paths), log)
    need = len(paths) * height * width * channels
    if need > MAX_DATASET_BYTES:
        raise DataError(
            f"{len(paths)} images of {height}x{width}x{channels} would take {need / 2**30:.1f} "
            f"GiB, above the budget of {MAX_DATASET_BYTES / 2**30:g} GiB per dataset; keep "
            "fewer images (train_per_class, test_per_class) or downscale them"
        )
    out = np.empty((len(paths), height, width, channels), dtype=np.uint8)
    for i, path in enumerate(paths):
        out[i] = _fit(decode(path, str(path), notes), height, width)
    return out


def _fit(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """`image` resized (bilinear) to height x width, if it is not already."""
    if image.shape[:2] == (height, width):
        return image
    pil = Image.fromarray(image[..., 0] if image.shape[2] == 1 else image)
    resized = np.asarray(pil.resize((width, height), Image.BILINEAR))
    return resized[..., None] if resized.ndim == 2 else resized


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
    colour = any(image.shape[2] == 3 for image in images)
    sizes = Counter(image.shape[:2] for image in images)
    height, width, channels = _plan(sizes, colour, len(images), log)
    out = np.empty((len(images), height, width, channels), dtype=np.uint8)
    for i, image in enumerate(images):
        out[i] = _fit(image, height, width)  # a grey image broadcasts over 3 channels
    return out
