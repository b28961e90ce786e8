"""A model file's format comes from its bytes: renaming a file never changes what it is."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from tradeoffs.fileformat import FileFormat, UnexpectedFormatError, detect, require


def _linear() -> torch.nn.Module:
    return torch.nn.Linear(2, 2)


@pytest.mark.parametrize(
    ("save", "expected"),
    [
        (lambda p: torch.save(_linear().state_dict(), p), FileFormat.TORCH_ZIP),
        (
            lambda p: torch.save(_linear().state_dict(), p, _use_new_zipfile_serialization=False),
            FileFormat.PICKLE,
        ),
        (lambda p: np.savez(p, a=np.zeros(2)), FileFormat.NUMPY_ZIP),
        (lambda p: np.save(p, np.zeros(2)), FileFormat.NUMPY),
        (lambda p: Path(p).write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64)), FileFormat.HDF5),
        (lambda p: Path(p).write_bytes(bytes(512) + b"\x89HDF\r\n\x1a\n"), FileFormat.HDF5),
        (lambda p: Path(p).write_bytes(bytes(4) + b"TFL3" + bytes(8)), FileFormat.TFLITE),
        (lambda p: Path(p).write_bytes(b"\x08\x08\x12\x07pytorch"), FileFormat.ONNX_CANDIDATE),
        (lambda p: Path(p).write_text("hello"), FileFormat.UNKNOWN),
    ],
)
def test_detect_ignores_the_name(tmp_path: Path, save, expected: FileFormat) -> None:
    # Every file is named as a zip `.keras` model would be: the content alone decides.
    raw = tmp_path / "raw.bin"
    save(raw)
    written = next(tmp_path.iterdir())  # numpy may append its own suffix
    named = tmp_path / "model.keras"
    written.rename(named)
    assert detect(named) is expected


def test_zip_members_decide_the_zip_kind(tmp_path: Path) -> None:
    keras = tmp_path / "a.pt"
    with zipfile.ZipFile(keras, "w") as z:
        z.writestr("config.json", "{}")
        z.writestr("model.weights.h5", b"")
    plain = tmp_path / "b.keras"
    with zipfile.ZipFile(plain, "w") as z:
        z.writestr("notes.txt", "x")
    assert detect(keras) is FileFormat.KERAS_ZIP
    assert detect(plain) is FileFormat.ZIP


def test_directories_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "sm").mkdir()
    (tmp_path / "sm" / "saved_model.pb").write_bytes(b"")
    assert detect(tmp_path / "sm") is FileFormat.SAVEDMODEL
    assert detect(tmp_path) is FileFormat.UNKNOWN
    assert detect(tmp_path / "absent.pt") is FileFormat.MISSING


def test_require_names_what_the_file_holds(tmp_path: Path) -> None:
    path = tmp_path / "model.keras"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    assert require(path, FileFormat.HDF5, FileFormat.KERAS_ZIP) is FileFormat.HDF5
    with pytest.raises(UnexpectedFormatError, match="holds hdf5 content, not keras-zip"):
        require(path, FileFormat.KERAS_ZIP)
