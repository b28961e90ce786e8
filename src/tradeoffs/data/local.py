"""Datasets built without a download: scikit-learn's digits, seeded synthetic images, and a
user's image folder."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from tradeoffs.data import Arrays, DataError, Log
from tradeoffs.data.images import EXTENSIONS, Notes, log_notes, read_images
from tradeoffs.data.subsets import seeded_order

DIGITS_TEST_FRACTION = 0.2
_SYNTHETIC_GRID = 4  # each class's mean image is a random 4x4 pattern, blown up to the shape
_SYNTHETIC_NOISE = 48.0  # pixel noise (standard deviation) around the class's mean


def make_digits(spec: dict[str, Any], log: Log = print) -> Arrays:
    """scikit-learn's 1,797 8x8 digits (grey 0..16 scaled to 0..255), split 80/20 stratified."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = np.rint(digits.images * (255 / 16)).astype(np.uint8)[..., None]
    y = digits.target.astype(np.int64)
    train, test = train_test_split(
        np.arange(len(y)), test_size=DIGITS_TEST_FRACTION, stratify=y, random_state=spec["seed"]
    )
    return Arrays(x[train], y[train], x[test], y[test], [str(d) for d in range(10)])


def make_synthetic(spec: dict[str, Any], log: Log = print) -> Arrays:
    """Seeded, learnable images: each class has its own blocky mean pattern, plus noise."""
    height, width, channels = spec["shape"]
    classes = spec["classes"]
    rng = np.random.default_rng(spec["seed"])
    grid_h, grid_w = min(_SYNTHETIC_GRID, height), min(_SYNTHETIC_GRID, width)
    patterns = rng.uniform(0, 255, size=(classes, grid_h, grid_w, channels))
    patterns = patterns.repeat(math.ceil(height / grid_h), axis=1)
    patterns = patterns.repeat(math.ceil(width / grid_w), axis=2)[:, :height, :width]

    def draw(size: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.permutation(np.arange(size) % classes).astype(np.int64)
        noise = rng.normal(0, _SYNTHETIC_NOISE, size=(size, height, width, channels))
        images = np.clip(np.rint(patterns[labels] + noise), 0, 255).astype(np.uint8)
        return images, labels

    train_x, train_y = draw(spec["train_size"])
    test_x, test_y = draw(spec["test_size"])
    return Arrays(train_x, train_y, test_x, test_y, synthetic_classes(classes))


def synthetic_classes(n: int) -> list[str]:
    return [f"class{i}" for i in range(n)]


def imagefolder_classes(root: str | Path) -> list[str]:
    """The class names of an imagefolder dataset: the sorted folder names of `root/train/`."""
    return sorted(_class_folders(Path(root).expanduser() / "train"))


def read_imagefolder(spec: dict[str, Any], log: Log = print) -> Arrays:
    """`path/train/<class>/**` and `path/test/<class>/**` (.png, .jpg, .jpeg, in subfolders
    too; other files are logged and left out). Classes are the sorted folder names of train/;
    test/ must have the same ones, and there must be at least two."""
    root = Path(spec["path"]).expanduser()
    folders = {split: _class_folders(root / split) for split in ("train", "test")}
    missing = sorted(set(folders["train"]) - set(folders["test"]))
    extra = sorted(set(folders["test"]) - set(folders["train"]))
    if missing or extra:
        problems = [f"class {c!r} has no folder in {root / 'test'}" for c in missing]
        problems += [f"class {c!r} is in test/ but not in {root / 'train'}" for c in extra]
        raise DataError("imagefolder: " + "; ".join(problems))
    classes = imagefolder_classes(root)
    if len(classes) < 2:
        raise DataError(
            f"imagefolder: {root / 'train'} has {len(classes)} class folder; a classifier needs "
            "at least two (train/<class>/* for each class)"
        )
    ordered = {
        split: seeded_order(
            [(name, path) for name, folder in by_class.items() for path in _images(folder, log)],
            spec["seed"],
        )
        for split, by_class in folders.items()
    }
    both = ordered["train"] + ordered["test"]
    log(f"reading {len(ordered['train'])} train and {len(ordered['test'])} test images of {root}")
    notes = Notes()
    x = read_images([path for _, path in both], notes, log)  # one shape for both splits
    log_notes(notes, len(both), log)
    y = np.array([classes.index(name) for name, _ in both], dtype=np.int64)
    n = len(ordered["train"])
    return Arrays(x[:n], y[:n], x[n:], y[n:], classes)


def _visible(path: Path, under: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(under).parts)


def _class_folders(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise DataError(f"imagefolder: {folder} does not exist; expected {folder}/<class>/*.png")
    entries = [p for p in folder.iterdir() if _visible(p, folder)]
    loose = sorted(p.name for p in entries if p.is_file() and p.suffix.lower() in EXTENSIONS)
    if loose:
        raise DataError(
            f"imagefolder: {folder} holds images outside class folders ({', '.join(loose[:3])}"
            f"{', ...' if len(loose) > 3 else ''}); move each into {folder}/<class>/"
        )
    found = {p.name: p for p in entries if p.is_dir()}
    if not found:
        raise DataError(f"imagefolder: {folder} has no class folders")
    return found


def _images(folder: Path, log: Log) -> list[Path]:
    """Every image under a class folder, subfolders included (hidden ones left out)."""
    found = [p for p in folder.rglob("*") if _visible(p, folder)]
    dangling = sorted(p for p in found if p.is_symlink() and not p.exists())
    if dangling:
        raise DataError(
            f"imagefolder: {dangling[0]} is a link to {dangling[0].readlink()}, which does not "
            f"exist ({len(dangling)} such link(s) under {folder}); remove the link or restore "
            "its target"
        )
    files = sorted(p for p in found if p.is_file())
    images = [p for p in files if p.suffix.lower() in EXTENSIONS]
    if not images:
        raise DataError(f"imagefolder: {folder} holds no {'/'.join(EXTENSIONS)} images")
    if len(images) < len(files):
        log(f"{folder}: left out {len(files) - len(images)} files that are not {EXTENSIONS}")
    return images
