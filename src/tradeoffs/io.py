"""Writes that are complete or absent: a temporary file beside the target, then a rename."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto `target` on success.

    The temporary name keeps the target's suffix, for writers that insist on one (Keras)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent
    )
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the usual mode
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except OSError as error:
        if error.errno == errno.ENOSPC and not isinstance(error, DiskFullError):
            raise DiskFullError(target) from None
        raise
    finally:
        tmp_path.unlink(missing_ok=True)


class DiskFullError(OSError):
    """A write that ran out of space: the target it was writing and what to do."""

    def __init__(self, target: Path) -> None:
        super().__init__(
            errno.ENOSPC,
            f"no space left on the device while writing {target}; free space on "
            f"{target.parent} (or point data_dir / results_dir at a larger disk) and rerun "
            "the job: it resumes from its last checkpoint",
        )

    def __str__(self) -> str:
        return self.strerror


@contextlib.contextmanager
def full_disk_exits() -> Iterator[None]:
    """A script's main under this exits with DiskFullError's one line, not a traceback."""
    try:
        yield
    except DiskFullError as error:
        sys.exit(str(error))


def write_text(target: str | Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy / torch arrays and scalars
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def write_json(target: str | Path, data: Any) -> None:
    write_text(target, json.dumps(data, indent=2, sort_keys=True, default=_jsonable) + "\n")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())
