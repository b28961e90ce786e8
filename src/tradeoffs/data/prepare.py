"""Prepare a dataset once into `{data_dir}/prepared/{name}/`: four .npy arrays, then meta.json.

Every file is written atomically and meta.json last, so a folder with meta.json is complete.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tradeoffs import io, schemas
from tradeoffs.data import Arrays, DataError, Log, archives, integrity, local
from tradeoffs.data.download import md5_of
from tradeoffs.data.prepared import ARRAYS
from tradeoffs.data.sources import SOURCES, RemoteFile
from tradeoffs.data.subsets import first_per_class

ARCHIVE_READERS = {
    "mnist": archives.read_mnist,
    "cifar10": archives.read_cifar10,
    "cifar100": archives.read_cifar100,
    "cinic10": archives.read_cinic10,
}
LOCAL_READERS = {
    "digits": local.make_digits,
    "synthetic": local.make_synthetic,
    "imagefolder": local.read_imagefolder,
}


def full_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The dataset's config entry with the format's defaults (from the config schema) filled
    in; meta.json records the values used."""
    return {**schemas.format_defaults(spec["format"]), **spec}


def verify_archives(
    fmt: str, folder: Path, sources: Mapping[str, tuple[RemoteFile, ...]]
) -> dict[str, str] | None:
    """{file: md5} of the format's archives, each checked against its published md5."""
    remotes = sources.get(fmt)
    if not remotes:
        return None
    found = {}
    for remote in remotes:
        path = folder / remote.name
        if not path.is_file():
            raise DataError(f"{path} is missing; download it first (the download rule) or place it")
        actual = md5_of(path)
        if actual != remote.md5:
            raise DataError(
                f"{path} has md5 {actual}, but the published md5 is {remote.md5}; "
                "delete it and download it again"
            )
        found[remote.name] = actual
    return found


def read(
    spec: Mapping[str, Any],
    downloads: Path,
    sources: Mapping[str, tuple[RemoteFile, ...]] = SOURCES,
    log: Log = print,
) -> tuple[Arrays, dict[str, str] | None]:
    """The dataset in memory, per-class limits applied, and the md5s of its archives."""
    spec = full_spec(spec)
    fmt = spec["format"]
    if fmt in ARCHIVE_READERS:
        folder = downloads / fmt
        md5s = verify_archives(fmt, folder, sources)
        data = ARCHIVE_READERS[fmt](folder, spec, log)
    elif fmt in LOCAL_READERS:
        md5s = None
        data = LOCAL_READERS[fmt](spec, log)
    else:
        raise DataError(f"unknown dataset format {fmt!r}")
    train = first_per_class(data.train_y, spec.get("train_per_class"))
    test = first_per_class(data.test_y, spec.get("test_per_class"))
    data = Arrays(
        data.train_x[train], data.train_y[train], data.test_x[test], data.test_y[test], data.classes
    )
    _check(data)
    return data, md5s


def _check(data: Arrays) -> None:
    if len(data.classes) < 2:
        raise DataError(
            f"the dataset has only {len(data.classes)} class {data.classes}; a classifier needs "
            "at least two"
        )
    for split in ("train", "test"):
        x, y = getattr(data, f"{split}_x"), getattr(data, f"{split}_y")
        if x.dtype != np.uint8 or x.ndim != 4 or y.dtype != np.int64 or len(x) != len(y):
            raise DataError(f"{split} arrays are {x.dtype}{x.shape} and {y.dtype}{y.shape}")
        if len(y) == 0:
            raise DataError(f"the {split} split is empty")
        if y.min() < 0 or y.max() >= len(data.classes):
            raise DataError(f"{split} labels outside 0..{len(data.classes) - 1}")
    if data.train_x.shape[1:] != data.test_x.shape[1:]:
        raise DataError(f"train images {data.train_x.shape[1:]} != test {data.test_x.shape[1:]}")


def save_array(path: Path, array: np.ndarray) -> dict[str, Any]:
    """Write one array atomically; returns its meta.json record (checksum, shape, dtype)."""
    with io.atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, array)
        return integrity.array_record(tmp, array)


def prepare(
    name: str,
    spec: Mapping[str, Any],
    downloads: str | Path,
    output_dir: str | Path,
    sources: Mapping[str, tuple[RemoteFile, ...]] = SOURCES,
    log: Log = print,
) -> dict[str, Any]:
    """Read dataset `name` (its config entry `spec`) and write its prepared folder; returns
    the meta written. `sources` gives the archives and their md5s (tests pass their own)."""
    spec = full_spec(spec)
    output_dir = Path(output_dir)
    (output_dir / "meta.json").unlink(missing_ok=True)  # the folder is incomplete from here on
    source_digest = integrity.source_digest(spec)
    data, md5s = read(spec, Path(downloads), sources, log)
    if integrity.source_digest(spec) != source_digest:
        raise DataError(f"{spec['path']} changed while it was read; prepare it again")
    arrays = {name: save_array(output_dir / f"{name}.npy", getattr(data, name)) for name in ARRAYS}
    meta = {
        "name": name,
        "format": spec["format"],
        "classes": data.classes,
        "num_classes": len(data.classes),
        "shape": list(data.train_x.shape[1:]),
        "train_count": len(data.train_y),
        "test_count": len(data.test_y),
        "sources": md5s,
        "source_digest": source_digest,
        "arrays": arrays,
        "spec": spec,
    }
    io.write_json(output_dir / "meta.json", meta)
    log(
        f"prepared {name}: {meta['train_count']} train, {meta['test_count']} test images of "
        f"{meta['shape']} (HWC), {meta['num_classes']} classes -> {output_dir}"
    )
    return meta
