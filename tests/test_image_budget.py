"""Image decoding within a budget (issue 26): an image's pixel count is read from its header and
refused above the budget before any decoding, a dataset whose array would pass its budget is
refused before decoding, prepare decodes one image at a time into the array, and a dangling
link in an imagefolder is a message, not a traceback."""

from __future__ import annotations

import struct
import tracemalloc
import zlib
from pathlib import Path

import pytest
from test_data_prepare import make_folder

from tradeoffs.data import DataError, images
from tradeoffs.data.integrity import folder_digest
from tradeoffs.data.local import read_imagefolder
from tradeoffs.data.prepare import prepare


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int, height: int) -> bytes:
    """A PNG header announcing width x height grey pixels, with a few bytes of compressed zeros:
    a decoder would allocate the whole image."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(bytes(width + 1) * 4)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", rows)
        + _chunk(b"IEND", b"")
    )


def _folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "img", {"train": {"a": 2, "b": 2}, "test": {"a": 1, "b": 1}})


@pytest.mark.parametrize("pixels", [(20_000, 10_000), (5_000, 5_000)])  # above PIL's own limit
def test_an_image_above_the_budget_is_refused_from_its_header(tmp_path: Path, pixels) -> None:
    root = _folder(tmp_path)
    (root / "train" / "a" / "bomb.png").write_bytes(bomb_png(*pixels))
    spec = {"format": "imagefolder", "path": str(root), "seed": 0}
    with pytest.raises(DataError, match=r"bomb.png is .* the budget of 16,777,216 pixels"):
        prepare("mine", spec, tmp_path, tmp_path / "out")
    assert not (tmp_path / "out" / "meta.json").exists()


def test_a_dataset_above_its_budget_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _folder(tmp_path)
    monkeypatch.setattr(images, "MAX_DATASET_BYTES", 6 * 4 * 4 * 3 - 1)  # one byte short
    decoded = []
    monkeypatch.setattr(images, "decode", lambda *a, **k: decoded.append(a))
    with pytest.raises(DataError, match="above the budget of .* GiB per dataset; keep fewer"):
        read_imagefolder({"path": str(root), "seed": 0}, log=lambda m: None)
    assert decoded == []


def test_images_are_decoded_into_the_array_one_at_a_time(tmp_path: Path) -> None:
    n = 40
    root = make_folder(
        tmp_path / "img",
        {"train": {"a": n // 2, "b": n // 2}, "test": {"a": 1, "b": 1}},
        size=(96, 96),
    )
    tracemalloc.start()
    data = read_imagefolder({"path": str(root), "seed": 0}, log=lambda m: None)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    array_bytes = data.train_x.nbytes + data.test_x.nbytes
    assert data.train_x.shape == (n, 96, 96, 3)
    # The array and one image at a time: never every decoded image beside the array.
    assert peak < 1.3 * array_bytes, (peak, array_bytes)


def test_a_dangling_link_in_an_imagefolder_is_named(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    (root / "train" / "a" / "gone.png").symlink_to(tmp_path / "nowhere.png")
    assert len(folder_digest(root)) == 64  # planning (the prepare rule's param) still works
    with pytest.raises(DataError, match=r"gone.png is a link to .*nowhere.png, which does not"):
        prepare("mine", {"format": "imagefolder", "path": str(root)}, tmp_path, tmp_path / "o")
