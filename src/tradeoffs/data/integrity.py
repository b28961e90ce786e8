"""Checksums that tie a prepared dataset to its arrays and to the files it was built from.

`prepare` records in meta.json the sha256, shape and dtype of every array file, and a digest of
its source files; readers call `verify` before loading, so a truncated or overwritten array
fails with a message that says how to rebuild it instead of training on wrong data. A file is
hashed once per process (keyed by its size, modification time and inode), so repeated loads in
one job stay cheap.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tradeoffs.data import DataError

_VERIFIED: dict[tuple[str, int, int, int], str] = {}  # (path, size, mtime_ns, inode) -> sha256


class PreparedDataError(DataError):
    """A prepared dataset does not match its meta.json; the message says how to rebuild it."""


def sha256_of(path: str | Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _cached_sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if key not in _VERIFIED:
        _VERIFIED[key] = sha256_of(path)
    return _VERIFIED[key]


def array_record(path: Path, array: np.ndarray) -> dict[str, Any]:
    """What meta.json keeps of one written array file."""
    return {"sha256": sha256_of(path), "shape": list(array.shape), "dtype": str(array.dtype)}


def rebuild_hint(folder: Path) -> str:
    return (
        f"rebuild it: snakemake --force {shlex.quote(str(folder / 'meta.json'))} (or delete "
        f"{folder} and run the workflow again)"
    )


def verify(folder: str | Path, name: str, meta: Mapping[str, Any]) -> Path:
    """The path of array `name` of a prepared folder, after checking its sha256 against
    meta.json's record; PreparedDataError when it is missing, changed or unrecorded."""
    folder = Path(folder)
    path = folder / f"{name}.npy"
    record = meta.get("arrays", {}).get(name)
    if record is None:
        raise PreparedDataError(
            f"prepared dataset {folder} has no checksum of {path.name} in meta.json (prepared "
            f"by an older version); {rebuild_hint(folder)}"
        )
    if not path.is_file():
        raise PreparedDataError(f"{path} is missing; {rebuild_hint(folder)}")
    if _cached_sha256(path) != record["sha256"]:
        raise PreparedDataError(
            f"{path} was changed or damaged after it was prepared (its sha256 differs from the "
            f"one in meta.json); {rebuild_hint(folder)}"
        )
    return path


def check_loaded(path: Path, array: np.ndarray, record: Mapping[str, Any]) -> np.ndarray:
    """The loaded array, if its shape and dtype are the recorded ones."""
    if list(array.shape) != record["shape"] or str(array.dtype) != record["dtype"]:
        raise PreparedDataError(
            f"{path} holds {array.dtype}{list(array.shape)}, meta.json recorded "
            f"{record['dtype']}{record['shape']}; {rebuild_hint(path.parent)}"
        )
    return array


def folder_digest(root: str | Path, splits: tuple[str, ...] = ("train", "test")) -> str:
    """sha256 over the relative path, size and modification time of every file under
    `root/<split>/`: any image added, removed, replaced or touched changes it. A link whose
    target is missing is hashed by its target's name (prepare refuses it with a message)."""
    root = Path(root).expanduser()
    entries = []
    for split in splits:
        for dirpath, dirnames, filenames in os.walk(root / split):
            dirnames.sort()
            for filename in sorted(filenames):
                path = Path(dirpath) / filename
                name = str(path.relative_to(root))
                try:
                    stat = path.stat()
                except OSError as error:  # a dangling link: prepare names it (data.local)
                    entries.append([name, error.strerror, str(path.readlink())])
                    continue
                entries.append([name, stat.st_size, stat.st_mtime_ns])
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()


def source_digest(spec: Mapping[str, Any]) -> str | None:
    """The digest of a dataset's local source files (an imagefolder's images), or None when
    it has none (archives are checked by md5, digits and synthetic are generated)."""
    if spec.get("format") == "imagefolder" and "path" in spec:
        return folder_digest(spec["path"])
    return None
