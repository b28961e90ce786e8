"""Prepare every format: official archives served over loopback, and the local datasets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import (
    CIFAR10_CLASSES,
    FileServer,
    cifar10_files,
    cifar100_files,
    cinic10_files,
    mnist_files,
    place,
    png,
    snakemake_target,
)
from PIL import Image

from tradeoffs.data import DataError
from tradeoffs.data.download import download
from tradeoffs.data.prepare import prepare
from tradeoffs.data.prepared import ARRAYS, load_prepared

REPO = Path(__file__).resolve().parents[1]


def fetch_and_prepare(fmt, files, tmp_path, spec=None):
    """Download `files` over loopback with their md5s as the published ones, then prepare."""
    downloads = tmp_path / "downloads"
    with FileServer(files) as server:
        sources = {fmt: tuple(server.remote(name) for name in files)}
        for remote in sources[fmt]:
            download(remote, downloads / fmt / remote.name, backoff_s=0, log=lambda _: None)
    out = tmp_path / "prepared" / fmt
    meta = prepare(fmt, {"format": fmt, **(spec or {})}, downloads, out, sources, lambda _: None)
    data = load_prepared(out)
    assert data.meta == json.loads((out / "meta.json").read_text()) == meta
    assert meta["sources"] == {remote.name: remote.md5 for remote in sources[fmt]}
    for split in ("train", "test"):
        x, y = getattr(data, f"{split}_x"), getattr(data, f"{split}_y")
        assert x.dtype == np.uint8 and x.ndim == 4 and y.dtype == np.int64
        assert meta[f"{split}_count"] == len(x) == len(y)
        assert meta["shape"] == list(x.shape[1:])
    return data


@pytest.mark.parametrize(
    ("fmt", "build"),
    [("mnist", mnist_files), ("cifar10", cifar10_files), ("cifar100", cifar100_files)],
)
def test_official_formats_round_trip(fmt, build, tmp_path):
    files, expected = build()
    data = fetch_and_prepare(fmt, files, tmp_path)
    for array in ARRAYS:
        np.testing.assert_array_equal(getattr(data, array), getattr(expected, array))
    assert data.classes == expected.classes
    assert data.meta["num_classes"] == len(expected.classes)


def test_cinic10_train_and_test_with_per_class_limit(tmp_path):
    files = cinic10_files({"train": 2, "valid": 1, "test": 5})
    data = fetch_and_prepare("cinic10", files, tmp_path, {"test_per_class": 3})
    assert data.classes == CIFAR10_CLASSES  # the same indices as cifar10
    assert data.meta["shape"] == [32, 32, 3]
    assert np.bincount(data.train_y).tolist() == [2] * 10  # valid/ is left out
    assert np.bincount(data.test_y).tolist() == [3] * 10
    for x, y in ((data.train_x, data.train_y), (data.test_x, data.test_y)):
        np.testing.assert_array_equal(x[:, 0, 0, 0], 20 * y)  # each image has its own label
    assert data.meta["spec"] == {"format": "cinic10", "test_per_class": 3, "seed": 0}


def test_cinic10_subset_is_deterministic_and_mixes_origins(tmp_path):
    files = cinic10_files({"train": 1, "test": 6})
    first = fetch_and_prepare("cinic10", files, tmp_path / "a", {"test_per_class": 2})
    again = fetch_and_prepare("cinic10", files, tmp_path / "b", {"test_per_class": 2})
    np.testing.assert_array_equal(first.test_x, again.test_x)
    np.testing.assert_array_equal(first.test_y, again.test_y)
    # not the file-name order, in which the CIFAR part (cifar10-*) of each class comes first
    assert set(first.test_x[:, 0, 0, 1].tolist()) == {0, 1}


def test_checksum_of_a_placed_archive_is_checked(tmp_path):
    files, _ = cifar10_files()
    with FileServer(files) as server:
        sources = {"cifar10": (server.remote("cifar-10-python.tar.gz"),)}
    place(tmp_path / "downloads" / "cifar10", {"cifar-10-python.tar.gz": b"something else"})
    with pytest.raises(DataError, match="published md5"):
        prepare("cifar10", {"format": "cifar10"}, tmp_path / "downloads", tmp_path / "out", sources)
    assert not (tmp_path / "out" / "meta.json").exists()


def test_digits(tmp_path):
    meta = prepare("digits", {"format": "digits"}, tmp_path, tmp_path / "digits", log=print)
    data = load_prepared(tmp_path / "digits")
    assert meta["classes"] == [str(d) for d in range(10)] and meta["shape"] == [8, 8, 1]
    assert (meta["train_count"], meta["test_count"]) == (1437, 360)
    assert data.train_x.max() == 255 and data.train_x.dtype == np.uint8
    # stratified: every class has ~20% of its images in test
    assert np.all(np.abs(np.bincount(data.test_y) - 36) <= 1)
    again = prepare("digits", {"format": "digits"}, tmp_path, tmp_path / "again", log=print)
    assert again == meta | {"name": "digits"}
    np.testing.assert_array_equal(load_prepared(tmp_path / "again").test_y, data.test_y)


def test_synthetic_is_seeded_and_learnable(tmp_path):
    spec = {"format": "synthetic", "shape": [6, 5, 2], "classes": 4, "train_size": 80}
    spec |= {"test_size": 40, "seed": 7}
    meta = prepare("toy", spec, tmp_path, tmp_path / "a", log=print)
    prepare("toy", spec, tmp_path, tmp_path / "b", log=print)
    a, b = load_prepared(tmp_path / "a"), load_prepared(tmp_path / "b")
    np.testing.assert_array_equal(a.train_x, b.train_x)
    assert meta["shape"] == [6, 5, 2] and meta["num_classes"] == 4
    assert np.bincount(a.train_y).tolist() == [20] * 4
    # nearest class mean already separates the classes: there is something to learn
    means = np.stack([a.train_x[a.train_y == c].mean(0) for c in range(4)]).reshape(4, -1)
    flat = a.test_x.reshape(len(a.test_x), -1).astype(float)
    predicted = np.argmin(((flat[:, None] - means[None]) ** 2).sum(-1), axis=1)
    assert (predicted == a.test_y).mean() > 0.9


def test_synthetic_defaults(tmp_path):
    meta = prepare("synthetic", {"format": "synthetic"}, tmp_path, tmp_path / "s", log=print)
    assert meta["shape"] == [32, 32, 3] and meta["num_classes"] == 10
    assert (meta["train_count"], meta["test_count"]) == (1000, 200)


def make_folder(root: Path, layout: dict[str, dict[str, int]], size=(4, 4)) -> Path:
    for split, classes in layout.items():
        for label, (cls, n) in enumerate(classes.items()):
            (root / split / cls).mkdir(parents=True, exist_ok=True)
            for k in range(n):
                image = np.full((*size, 3), 40 * label + k, dtype=np.uint8)
                (root / split / cls / f"{k}.png").write_bytes(png(image))
    return root


def test_imagefolder(tmp_path):
    root = make_folder(tmp_path / "img", {"train": {"b": 3, "a": 2}, "test": {"a": 1, "b": 2}})
    Image.new("L", (8, 6), 7).save(root / "train" / "a" / "odd.jpg")  # grey, other size
    (root / "train" / "a" / "notes.txt").write_text("ignored")
    spec = {"format": "imagefolder", "path": str(root), "train_per_class": 2}
    meta = prepare("mine", spec, tmp_path, tmp_path / "out", log=print)
    data = load_prepared(tmp_path / "out")
    assert meta["classes"] == ["a", "b"] and meta["shape"] == [4, 4, 3]
    assert np.bincount(data.train_y).tolist() == [2, 2]
    assert np.bincount(data.test_y).tolist() == [1, 2]


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({"train": {"a": 1, "b": 1}, "test": {"a": 1}}, "class 'b' has no folder in"),
        ({"train": {"a": 1, "b": 0}, "test": {"a": 1, "b": 1}}, "train/b holds no"),
        ({"train": {"a": 1}}, "test does not exist"),
    ],
)
def test_imagefolder_errors(tmp_path, layout, message):
    root = make_folder(tmp_path / "img", layout)
    with pytest.raises(DataError, match=message):
        prepare("mine", {"format": "imagefolder", "path": str(root)}, tmp_path, tmp_path / "o")


def test_imagefolder_unreadable_image_is_named(tmp_path):
    root = make_folder(tmp_path / "img", {"train": {"a": 1, "b": 1}, "test": {"a": 1, "b": 1}})
    (root / "test" / "a" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="broken.png"):
        prepare("mine", {"format": "imagefolder", "path": str(root)}, tmp_path, tmp_path / "o")


def test_snakemake_prepares_digits(tmp_path):
    """The workflow builds just the requested prepared dataset, nothing else."""
    data_dir = tmp_path / "resources"
    config = tmp_path / "config.yaml"
    config.write_text(
        f"data_dir: {data_dir}\nresults_dir: {tmp_path / 'results'}\n"
        "studies:\n  s: {datasets: [digits], models: [mnist_cnn], backends: [torch-cpu]}\n"
    )
    target = data_dir / "prepared" / "digits" / "meta.json"
    result = snakemake_target(config, target)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(target.read_text())["name"] == "digits"
    assert sorted(p.name for p in target.parent.iterdir()) == sorted(
        [f"{array}.npy" for array in ARRAYS] + ["meta.json"]
    )
    assert not (tmp_path / "results").exists()
