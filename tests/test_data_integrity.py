"""A prepared dataset is checked before use: a damaged array is an error that says how to
rebuild it, never silent training; a changed image folder makes `prepare` out of date; decoding
keeps what the images hold (16-bit values, transparency, nested folders)."""

import io
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image
from prepared_digits import write_prepared_digits
from test_data_prepare import make_folder

from tradeoffs.config import check_config
from tradeoffs.data import DataError, integrity
from tradeoffs.data.images import decode
from tradeoffs.data.integrity import PreparedDataError
from tradeoffs.data.prepare import prepare
from tradeoffs.data.prepared import ARRAYS, load_prepared
from tradeoffs.engines.torch.data import load_split

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


@pytest.fixture
def digits(tmp_path):
    """A data_dir of its own (the test damages it), and the prepared folder."""
    write_prepared_digits(tmp_path / "data", train_per_class=5, test_per_class=2)
    return tmp_path / "data", tmp_path / "data" / "prepared" / "digits"


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-7])


def overwrite_same_size(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-10:] = bytes(255 - b for b in data[-10:])  # pixels changed, header and size kept
    path.write_bytes(bytes(data))


def test_meta_records_checksum_shape_and_dtype(digits):
    _, folder = digits
    meta = json.loads((folder / "meta.json").read_text())
    for name in ARRAYS:
        array = np.load(folder / f"{name}.npy")
        record = meta["arrays"][name]
        assert record["sha256"] == integrity.sha256_of(folder / f"{name}.npy")
        assert (record["shape"], record["dtype"]) == (list(array.shape), str(array.dtype))
    assert meta["source_digest"] is None  # digits is generated, not read from files


@pytest.mark.parametrize("damage", [truncate, overwrite_same_size])
@pytest.mark.parametrize("name", ["train_x", "test_y"])
def test_damaged_array_is_refused_with_how_to_rebuild(digits, damage, name):
    _, folder = digits
    damage(folder / f"{name}.npy")
    with pytest.raises(PreparedDataError) as error:
        load_prepared(folder)
    assert f"{name}.npy was changed or damaged" in str(error.value)
    assert f"snakemake --force {folder / 'meta.json'}" in str(error.value)


@pytest.mark.parametrize("damage", [truncate, overwrite_same_size])
def test_engine_reader_checks_too(digits, damage):
    _, folder = digits
    load_split(folder, "test", (28, 28, 1), [0.5], [0.5], torch.device("cpu"))
    damage(folder / "test_x.npy")
    with pytest.raises(PreparedDataError, match="test_x.npy was changed or damaged"):
        load_split(folder, "test", (28, 28, 1), [0.5], [0.5], torch.device("cpu"))


def test_folder_prepared_without_checksums_is_refused(digits):
    _, folder = digits
    meta = json.loads((folder / "meta.json").read_text())
    del meta["arrays"]
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(PreparedDataError, match="prepared by an older version"):
        load_prepared(folder)


def test_each_file_is_hashed_once_per_process(digits, monkeypatch):
    _, folder = digits
    hashed = []
    real = integrity.sha256_of
    monkeypatch.setattr(integrity, "sha256_of", lambda path: hashed.append(path) or real(path))
    load_prepared(folder)
    load_prepared(folder)
    assert sorted(Path(p).name for p in hashed) == sorted(f"{name}.npy" for name in ARRAYS)


def test_training_on_damaged_data_stops_with_the_message(digits, tmp_path):
    data_dir, folder = digits
    overwrite_same_size(folder / "train_x.npy")
    config = {"studies": {"s": {"datasets": ["digits"], "models": ["mnist_cnn"]}}}
    config["studies"]["s"].update(backends=["torch-cpu"], train={"epochs": 1})
    study = check_config(config, ROOT / "schemas" / "config.schema.yaml")["studies"]["s"]
    run_dir = tmp_path / "run"
    command = [sys.executable, str(ROOT / "scripts" / "train.py"), "--study", "s"]
    command += ["--dataset", "digits", "--model", "mnist_cnn", "--act", "relu"]
    command += ["--precision", "fp32", "--backend", "torch-cpu", "--seed", "0"]
    command += ["--run-dir", str(run_dir), "--data-dir", str(data_dir)]
    command += ["--study-json", json.dumps(study)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "train failed:" in result.stderr and "train_x.npy was changed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (run_dir / "train.json").exists() and not (run_dir / "model.pt").exists()


def png(array: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, "PNG")
    return buffer.getvalue()


def test_16_bit_grey_is_scaled_not_clipped():
    wide = np.array([[0, 257, 32896], [65535, 1000, 60000]], dtype=np.uint16)
    notes = Counter()
    pixels = decode(png(wide), "wide.png", notes)
    assert pixels[..., 0].tolist() == [[0, 1, 128], [255, 4, 233]]
    assert notes == {"16-bit grey scaled to 8 bits": 1}


def test_transparency_is_composited_onto_black_and_noted():
    rgba = np.zeros((1, 3, 4), dtype=np.uint8)
    rgba[0, :, :3] = 200
    rgba[0, :, 3] = [255, 128, 0]
    notes = Counter()
    pixels = decode(png(rgba), "t.png", notes)
    assert pixels.shape == (1, 3, 3)
    assert pixels[0, :, 0].tolist() == [200, 100, 0]
    assert notes == {"transparent pixels composited onto black": 1}


def test_imagefolder_notes_are_logged(tmp_path):
    root = make_folder(tmp_path / "img", {"train": {"a": 1, "b": 1}, "test": {"a": 1, "b": 1}})
    (root / "train" / "a" / "0.png").write_bytes(png(np.full((4, 4, 4), 9, dtype=np.uint8)))
    lines = []
    spec = {"format": "imagefolder", "path": str(root)}
    prepare("mine", spec, tmp_path, tmp_path / "o", log=lines.append)
    assert "transparent pixels composited onto black: 1 of 4 images" in lines


def test_nested_folders_are_read(tmp_path):
    root = make_folder(tmp_path / "img", {"train": {"a": 1, "b": 1}, "test": {"a": 1, "b": 1}})
    (root / "train" / "a" / "deeper" / "more").mkdir(parents=True)
    nested = np.full((4, 4, 3), 77, dtype=np.uint8)
    (root / "train" / "a" / "deeper" / "more" / "x.png").write_bytes(png(nested))
    meta = prepare("mine", {"format": "imagefolder", "path": str(root)}, tmp_path, tmp_path / "o")
    assert meta["train_count"] == 3
    data = load_prepared(tmp_path / "o")
    assert (data.train_x == 77).all(axis=(1, 2, 3)).sum() == 1


def test_images_outside_class_folders_are_refused(tmp_path):
    root = make_folder(tmp_path / "img", {"train": {"a": 1, "b": 1}, "test": {"a": 1, "b": 1}})
    (root / "train" / "stray.png").write_bytes(png(np.zeros((4, 4, 3), dtype=np.uint8)))
    with pytest.raises(DataError, match="holds images outside class folders"):
        prepare("mine", {"format": "imagefolder", "path": str(root)}, tmp_path, tmp_path / "o")


def test_one_class_is_refused(tmp_path):
    root = make_folder(tmp_path / "img", {"train": {"a": 2}, "test": {"a": 1}})
    with pytest.raises(DataError, match="a classifier needs at least two"):
        prepare("mine", {"format": "imagefolder", "path": str(root)}, tmp_path, tmp_path / "o")


def snakemake(config: Path, *args: str) -> str:
    """Run this checkout's workflow from its root (as the rules expect) on `config`."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    command = [SNAKEMAKE, *args, "--cores", "1", "--nolock", "--configfile", str(config)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


@pytest.mark.slow
def test_changed_image_folder_makes_prepare_out_of_date(tmp_path):
    root = make_folder(tmp_path / "img", {"train": {"a": 2, "b": 2}, "test": {"a": 1, "b": 1}})
    config = {
        "data_dir": str(tmp_path / "data"),
        "results_dir": str(tmp_path / "results"),
        "datasets": {"mine": {"format": "imagefolder", "path": str(root)}},
        "studies": {"s": {"datasets": ["mine"], "models": ["cnn"], "backends": ["torch-cpu"]}},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    target = tmp_path / "data" / "prepared" / "mine" / "meta.json"
    snakemake(tmp_path / "config.yaml", str(target))
    assert json.loads(target.read_text())["train_count"] == 4
    assert "Nothing to be done" in snakemake(tmp_path / "config.yaml", "-n", str(target))
    (root / "train" / "a" / "new.png").write_bytes(png(np.zeros((4, 4, 3), dtype=np.uint8)))
    planned = snakemake(tmp_path / "config.yaml", "-n", str(target))
    assert "rule prepare" in planned and "Params have changed" in planned
    snakemake(tmp_path / "config.yaml", str(target))
    assert json.loads(target.read_text())["train_count"] == 5
