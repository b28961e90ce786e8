"""Uploaded files to images, refusing what could hurt: only PNG and JPEG, the pixel count checked
from the header before any decoding, zip members checked by name and by size as they are read.

Every refusal is an `UploadError` whose message names the file, the problem and the fix; the
dashboard shows it instead of a traceback.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np
from PIL import Image, UnidentifiedImageError

from tradeoffs.data.images import MAX_IMAGE_PIXELS

FORMATS = ("PNG", "JPEG")
MAX_PIXELS = MAX_IMAGE_PIXELS  # an image above this is refused before decoding (as in prepare)
MAX_ZIP_MEMBERS = 1000
MAX_MEMBER_BYTES = 20 * 2**20  # one decompressed zip member
MAX_ZIP_BYTES = 200 * 2**20  # all decompressed members together
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


_too_many_pixels = (
    f"images above {MAX_PIXELS:,} pixels are refused; downscale it first (the models read "
    "images of a few dozen pixels)."
)


class UploadError(ValueError):
    """A file the dashboard refuses, with the reason and what to do instead."""


@dataclass(frozen=True)
class Upload:
    name: str
    image: Image.Image  # decoded, mode RGB or L
    note: str | None = None  # what was done to fit it (alpha flattened, palette expanded)


def decode_image(name: str, data: bytes) -> Upload:
    """One PNG or JPEG, pixel count checked before decoding; RGBA/LA/P flattened on white."""
    try:
        with warnings.catch_warnings():  # PIL's own bomb warning: the limit below is stricter
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
    except UnidentifiedImageError:
        raise UploadError(
            f"{name}: not a PNG or JPEG image. Upload PNG or JPEG files, or a zip of them."
        ) from None
    except Image.DecompressionBombError:
        raise UploadError(f"{name}: {_too_many_pixels}") from None
    if image.format not in FORMATS:
        raise UploadError(
            f"{name}: {image.format} images are not accepted; convert it to PNG or JPEG."
        )
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise UploadError(f"{name}: {width} x {height} pixels; {_too_many_pixels}")
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise UploadError(
            f"{name}: the image is corrupt or truncated ({error}); re-export or re-upload it."
        ) from None
    note = None
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
        note = "transparency flattened onto white"
    elif image.mode not in ("RGB", "L"):
        note = f"{image.mode} converted to RGB"
        image = image.convert("RGB")
    return Upload(name, image, note)


def _safe_member(name: str) -> bool:
    """A member name that stays inside the folder it is extracted to."""
    path = PurePosixPath(name.replace("\\", "/"))
    return not path.is_absolute() and ".." not in path.parts and ":" not in path.parts[0]


def decode_zip(name: str, data: bytes) -> tuple[list[Upload], list[str]]:
    """The images inside a zip and, per member it skipped, why. Traversal names and oversized
    members refuse the whole archive (a zip bomb is read no further than the limit)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadError(f"{name}: not a readable zip archive; re-create it.") from None
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) > MAX_ZIP_MEMBERS:
        raise UploadError(
            f"{name}: {len(members)} files, above the limit of {MAX_ZIP_MEMBERS}; split it."
        )
    unsafe = [info.filename for info in members if not _safe_member(info.filename)]
    if unsafe:
        raise UploadError(
            f"{name}: refused, member names leave the archive's folder ({', '.join(unsafe[:3])}); "
            "zip the images with relative names."
        )
    uploads, skipped, total = [], [], 0
    for info in members:
        label = f"{name}/{info.filename}"
        if not info.filename.lower().endswith(IMAGE_SUFFIXES):
            skipped.append(f"{label}: not a .png/.jpg/.jpeg file")
            continue
        if info.file_size > MAX_MEMBER_BYTES:
            raise UploadError(_too_big(name, info.filename))
        try:
            with archive.open(info) as member:
                content = member.read(MAX_MEMBER_BYTES + 1)  # never past the limit
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as error:
            skipped.append(f"{label}: cannot be extracted ({error})")
            continue
        total += len(content)
        if len(content) > MAX_MEMBER_BYTES or total > MAX_ZIP_BYTES:
            raise UploadError(_too_big(name, info.filename))
        try:
            uploads.append(decode_image(label, content))
        except UploadError as error:
            skipped.append(str(error))
    return uploads, skipped


def _too_big(name: str, member: str) -> str:
    return (
        f"{name}: refused, {member} decompresses beyond the limit ({MAX_MEMBER_BYTES // 2**20} MB "
        f"per image, {MAX_ZIP_BYTES // 2**20} MB in all); upload smaller archives."
    )


def decode_upload(name: str, data: bytes) -> tuple[list[Upload], list[str]]:
    """Images and problems of one uploaded file (a zip or one image); never raises for content."""
    try:
        if name.lower().endswith(".zip") or zipfile.is_zipfile(io.BytesIO(data)):
            return decode_zip(name, data)
        return [decode_image(name, data)], []
    except UploadError as error:
        return [], [str(error)]


def to_dataset_array(image: Image.Image, shape: tuple[int, int, int]) -> np.ndarray:
    """uint8 H x W x C in a dataset's stored shape (resized bilinearly; grey repeats into RGB,
    RGB takes the luminance for a grey dataset), as prepare stores that dataset's images."""
    height, width, channels = shape
    image = image.convert("L" if channels == 1 else "RGB")
    if image.size != (width, height):
        image = image.resize((width, height), Image.BILINEAR)
    pixels = np.asarray(image, dtype=np.uint8)
    return pixels[..., None] if channels == 1 else pixels
