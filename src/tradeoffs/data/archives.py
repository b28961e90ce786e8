"""Readers of the official archives: MNIST (IDX gzip), CIFAR-10/100 (python pickles in a
tar.gz) and CINIC-10 (a tar.gz of train/ valid/ test/ <class>/*.png).

The archives are read only after their md5 matched the published one, which is what makes
unpickling the CIFAR batches safe.
"""

from __future__ import annotations

import gzip
import pickle
import tarfile
from pathlib import Path, PurePosixPath
from typing import IO, Any

import numpy as np

from tradeoffs.data import Arrays, DataError, Log
from tradeoffs.data.images import EXTENSIONS, Notes, decode, log_notes, stack
from tradeoffs.data.subsets import first_per_class, seeded_order

_IDX_UBYTE = 0x08


def read_idx(path: Path) -> np.ndarray:
    """A gzip-compressed IDX file of unsigned bytes as an array of its dimensions."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != _IDX_UBYTE:
        raise DataError(f"{path} is not an IDX file of unsigned bytes")
    ndim = data[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    values = np.frombuffer(data, dtype=np.uint8, offset=header)
    if values.size != int(np.prod(dims)):
        raise DataError(f"{path}: header says {dims}, but it holds {values.size} values")
    return values.reshape(dims)


def read_mnist(folder: Path, spec: dict[str, Any], log: Log = print) -> Arrays:
    def images(name: str) -> np.ndarray:
        return read_idx(folder / f"{name}-images-idx3-ubyte.gz")[..., None]

    def labels(name: str) -> np.ndarray:
        return read_idx(folder / f"{name}-labels-idx1-ubyte.gz").astype(np.int64)

    classes = [str(digit) for digit in range(10)]
    return Arrays(images("train"), labels("train"), images("t10k"), labels("t10k"), classes)


def _unpickle(tar: tarfile.TarFile, archive: Path, member: str) -> dict[str, Any]:
    try:
        f = tar.extractfile(member)
    except KeyError:
        f = None
    if f is None:
        raise DataError(f"{archive} has no file {member}; is it the official archive?")
    with f:
        return pickle.load(f, encoding="latin1")  # the batches were pickled by Python 2


def _cifar_images(batches: list[dict[str, Any]]) -> np.ndarray:
    data = np.concatenate([np.asarray(batch["data"], dtype=np.uint8) for batch in batches])
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()  # planes R, G, B -> NHWC


def _cifar_labels(batches: list[dict[str, Any]], key: str) -> np.ndarray:
    return np.concatenate([np.asarray(batch[key], dtype=np.int64) for batch in batches])


def read_cifar10(folder: Path, spec: dict[str, Any], log: Log = print) -> Arrays:
    archive = folder / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "r:gz") as tar:

        def load(name: str) -> dict[str, Any]:
            return _unpickle(tar, archive, f"cifar-10-batches-py/{name}")

        train = [load(f"data_batch_{i}") for i in range(1, 6)]
        test = [load("test_batch")]
        classes = list(load("batches.meta")["label_names"])
    return Arrays(
        _cifar_images(train),
        _cifar_labels(train, "labels"),
        _cifar_images(test),
        _cifar_labels(test, "labels"),
        classes,
    )


def read_cifar100(folder: Path, spec: dict[str, Any], log: Log = print) -> Arrays:
    """The 100 fine classes."""
    archive = folder / "cifar-100-python.tar.gz"
    with tarfile.open(archive, "r:gz") as tar:
        train, test, meta = (
            _unpickle(tar, archive, f"cifar-100-python/{member}")
            for member in ("train", "test", "meta")
        )
    return Arrays(
        _cifar_images([train]),
        _cifar_labels([train], "fine_labels"),
        _cifar_images([test]),
        _cifar_labels([test], "fine_labels"),
        list(meta["fine_label_names"]),
    )


def read_cinic10(folder: Path, spec: dict[str, Any], log: Log = print) -> Arrays:
    """CINIC-10's train and test splits (valid is left out), each in a seeded order; only the
    images kept by `train_per_class` / `test_per_class` are decoded."""
    archive = folder / "CINIC-10.tar.gz"
    with tarfile.open(archive, "r:gz") as tar:
        members = {_split_class(m.name): m for m in tar.getmembers() if m.isfile()}
        members.pop(None, None)
        classes = sorted({cls for split, cls, _ in members if split == "train"})
        if not classes:
            raise DataError(f"{archive} has no train/<class>/*.png; is it the official archive?")
        wanted = {}
        for split in ("train", "test"):
            keys = [key for key in members if key[0] == split]
            ordered = seeded_order(keys, spec.get("seed", 0))
            labels = np.array([classes.index(cls) for _, cls, _ in ordered], dtype=np.int64)
            keep = first_per_class(labels, spec.get(f"{split}_per_class"))
            wanted[split] = ([ordered[i] for i in keep], labels[keep])
        log(f"decoding {sum(len(keys) for keys, _ in wanted.values())} images of {archive.name}")
        notes = Notes()
        chosen = {key for keys, _ in wanted.values() for key in keys}
        pixels = _decode_members(tar, members, chosen, notes)
        log_notes(notes, len(chosen), log)
    split_x = {split: stack(pixels[key] for key in keys) for split, (keys, _) in wanted.items()}
    return Arrays(split_x["train"], wanted["train"][1], split_x["test"], wanted["test"][1], classes)


def _split_class(name: str) -> tuple[str, str, str] | None:
    """("train", "cat", "file.png") for a member .../train/cat/file.png, else None."""
    parts = PurePosixPath(name).parts
    if len(parts) < 3 or parts[-3] not in ("train", "valid", "test"):
        return None
    if not parts[-1].lower().endswith(EXTENSIONS):
        return None
    return parts[-3], parts[-2], parts[-1]


def _decode_members(tar: tarfile.TarFile, members: dict, wanted: set, notes: Notes) -> dict:
    """Decode the wanted members in archive order (one forward pass through the gzip stream)."""
    pixels = {}
    for key, member in sorted(members.items(), key=lambda item: item[1].offset):
        if key in wanted:
            f: IO[bytes] = tar.extractfile(member)
            pixels[key] = decode(f.read(), f"{tar.name}:{member.name}", notes)
    return pixels
