"""What a model file is, judged by its content, never by its name.

A file's name says nothing a user (or an attacker) cannot change: an HDF5 file renamed
`model.keras` makes `tf.keras.models.load_model` take its legacy path, where `safe_mode` does
not apply. Every loader asks `detect` first and opens only the format it expects.
"""

from __future__ import annotations

import zipfile
from enum import StrEnum
from pathlib import Path

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
NUMPY_MAGIC = b"\x93NUMPY"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# HDF5 allows a user block before the superblock, at 0, 512, 1024, 2048 ... bytes.
HDF5_OFFSETS = (0, 512, 1024, 2048, 4096)


class FileFormat(StrEnum):
    """The container a model file holds."""

    KERAS_ZIP = "keras-zip"  # Keras 3 / tf-keras v3 `.keras`: config.json + weights
    TORCH_ZIP = "torch-zip"  # torch.save's zip: a pickle (data.pkl) plus tensor storages
    TORCHSCRIPT = "torchscript"  # torch.jit.save's zip: code/ and constants.pkl
    TORCH_EXPORT = "torch-export"  # torch.export.save's .pt2 zip
    NUMPY_ZIP = "numpy-zip"  # np.savez: .npy members only
    ZIP = "zip"  # a zip archive of none of the above
    HDF5 = "hdf5"  # legacy Keras `.h5` (and anything else HDF5)
    PICKLE = "pickle"  # a bare pickle stream (torch.save's legacy format, joblib ...)
    NUMPY = "numpy"  # a single .npy array
    TFLITE = "tflite"  # a FlatBuffer with the TFL3 identifier
    SAVEDMODEL = "savedmodel"  # a TensorFlow SavedModel directory
    ONNX_CANDIDATE = "onnx-candidate"  # protobuf opening as ONNX's ModelProto does
    MISSING = "missing"
    UNKNOWN = "unknown"


def detect(path: str | Path) -> FileFormat:
    """The format of `path` from its bytes (a directory: SavedModel or unknown)."""
    path = Path(path)
    if path.is_dir():
        return FileFormat.SAVEDMODEL if (path / "saved_model.pb").is_file() else FileFormat.UNKNOWN
    if not path.is_file():
        return FileFormat.MISSING
    with path.open("rb") as handle:
        head = handle.read(16)
        if head[:4] in ZIP_MAGICS:
            return _zip_kind(path)
        if _is_hdf5(handle, head):
            return FileFormat.HDF5
    if head.startswith(NUMPY_MAGIC):
        return FileFormat.NUMPY
    if head[4:8] == b"TFL3":
        return FileFormat.TFLITE
    # Pickle protocol 2+ opens with PROTO (0x80) and the protocol number.
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return FileFormat.PICKLE
    # ONNX ModelProto's first field is ir_version (field 1, varint): tag byte 0x08.
    if head[:1] == b"\x08":
        return FileFormat.ONNX_CANDIDATE
    return FileFormat.UNKNOWN


def _is_hdf5(handle, head: bytes) -> bool:
    if head.startswith(HDF5_MAGIC):
        return True
    for offset in HDF5_OFFSETS[1:]:
        handle.seek(offset)
        if handle.read(len(HDF5_MAGIC)) == HDF5_MAGIC:
            return True
    return False


def _zip_kind(path: Path) -> FileFormat:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        return FileFormat.UNKNOWN
    tails = {name.split("/", 1)[-1] for name in names}
    if "config.json" in names and any(n.endswith(".weights.h5") for n in names):
        return FileFormat.KERAS_ZIP
    if any(t.startswith("code/") for t in tails) and "constants.pkl" in tails:
        return FileFormat.TORCHSCRIPT
    if any("serialized_exported_program" in t or t.startswith("models/") for t in tails):
        return FileFormat.TORCH_EXPORT
    if "data.pkl" in tails:
        return FileFormat.TORCH_ZIP
    if names and all(n.endswith(".npy") for n in names):
        return FileFormat.NUMPY_ZIP
    return FileFormat.ZIP


class UnexpectedFormatError(ValueError):
    """A model file whose content is not the format its loader accepts."""


class UnsafeModelError(UnexpectedFormatError):
    """A model file of an accepted format whose content would run code when read."""


def require(path: str | Path, *accepted: FileFormat) -> FileFormat:
    """`detect(path)` if it is one of `accepted`, else an error naming what the file is."""
    found = detect(path)
    if found in accepted:
        return found
    wanted = " or ".join(f.value for f in accepted)
    raise UnexpectedFormatError(
        f"{path}: the file holds {found.value} content, not {wanted}; "
        "formats are judged by content, not by the file name. Give a file saved in the "
        "expected format (or rerun the job that writes it)."
    )
