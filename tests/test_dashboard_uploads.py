"""Uploads: PNG/JPEG and zips of them decode; everything else is refused with a message."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from tradeoffs.dashboard import uploads


def _encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_png_and_jpeg_decode() -> None:
    for fmt in ("PNG", "JPEG"):
        images, problems = uploads.decode_upload("a", _encode(Image.new("RGB", (9, 7), "red"), fmt))
        assert problems == [] and images[0].image.size == (9, 7) and images[0].note is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"name,value\n1,2\n", "a.png: not a PNG or JPEG image"),
        (_encode(Image.new("RGB", (8, 8)), "GIF"), "GIF images are not accepted"),
        (_encode(Image.new("RGB", (64, 64), "blue"))[:120], "corrupt or truncated"),
    ],
)
def test_bad_files_get_one_message(data: bytes, message: str) -> None:
    images, problems = uploads.decode_upload("a.png", data)
    assert images == [] and len(problems) == 1 and message in problems[0]


@pytest.mark.parametrize(("side", "size"), [(10_000, "10000 x 10000 pixels; "), (20_000, "")])
def test_huge_images_are_refused_before_decoding(
    monkeypatch: pytest.MonkeyPatch, side: int, size: str
) -> None:
    data = _encode(Image.new("1", (side, side)))  # 1-bit: small to build
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("decoded"))
    images, problems = uploads.decode_upload("big.png", data)
    assert images == []
    assert problems == [
        f"big.png: {size}images above 16,777,216 pixels are refused; downscale it first (the "
        "models read images of a few dozen pixels)."
    ]


def test_rgba_and_grey_fit_the_dataset_shape() -> None:
    rgba = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    (image,), _ = uploads.decode_upload("t.png", _encode(rgba))
    assert image.note == "transparency flattened onto white"
    rgb = uploads.to_dataset_array(image.image, (2, 2, 3))
    assert rgb.shape == (2, 2, 3) and rgb.dtype == np.uint8 and (rgb == 255).all()
    (grey,), _ = uploads.decode_upload("g.png", _encode(Image.new("L", (16, 16), 100)))
    assert (uploads.to_dataset_array(grey.image, (8, 8, 3)) == 100).all()
    red = Image.new("RGB", (8, 8), (255, 0, 0))
    assert (uploads.to_dataset_array(red, (8, 8, 1)) == 76).all()  # luminance, as PIL's "L"


def test_zip_of_images_skips_what_it_cannot_read() -> None:
    png = _encode(Image.new("RGB", (5, 5)))
    data = _zip(
        {
            "cats/a.png": png,
            "b.jpg": _encode(Image.new("RGB", (5, 5)), "JPEG"),
            "notes.txt": b"hi",
            "c.png": b"not a png",
        }
    )
    images, problems = uploads.decode_upload("set.zip", data)
    assert [i.name for i in images] == ["set.zip/cats/a.png", "set.zip/b.jpg"]
    assert problems[0] == "set.zip/notes.txt: not a .png/.jpg/.jpeg file"
    assert "set.zip/c.png: not a PNG or JPEG image" in problems[1]


@pytest.mark.parametrize("name", ["../evil.png", "/etc/evil.png", "a/../../evil.png", "C:/x.png"])
def test_zip_traversal_names_refuse_the_archive(name: str) -> None:
    images, problems = uploads.decode_upload("t.zip", _zip({name: b"x", "ok.png": b"x"}))
    assert images == []
    assert problems[0].startswith("t.zip: refused, member names leave the archive's folder")


def test_zip_bomb_is_refused_by_size() -> None:
    bomb = _zip({"bomb.png": bytes(uploads.MAX_MEMBER_BYTES + 1)})
    assert len(bomb) < 100_000
    images, problems = uploads.decode_upload("bomb.zip", bomb)
    assert images == [] and "bomb.png decompresses beyond the limit" in problems[0]


def test_zip_lying_about_its_sizes_is_read_no_further_than_the_limit() -> None:
    data = bytearray(_zip({"bomb.png": bytes(uploads.MAX_MEMBER_BYTES + 1)}))
    # Declare a tiny uncompressed size in both headers; the compressed stream is unchanged.
    size = (uploads.MAX_MEMBER_BYTES + 1).to_bytes(4, "little")
    assert data.count(size) == 2
    data = data.replace(size, (10).to_bytes(4, "little"))
    images, problems = uploads.decode_upload("liar.zip", bytes(data))
    assert images == [] and len(problems) == 1
    assert "cannot be extracted" in problems[0] or "beyond the limit" in problems[0]


def test_not_a_zip_named_zip() -> None:
    images, problems = uploads.decode_upload("x.zip", b"PK\x03\x04 broken")
    assert images == [] and problems == ["x.zip: not a readable zip archive; re-create it."]
