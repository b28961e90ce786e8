"""A full disk is one line naming the file and the fix, not a traceback (issue 26)."""

from __future__ import annotations

import errno
import json
import runpy
import sys
from pathlib import Path

import pytest
import torch
from test_contract import torch_spec

from tradeoffs import io

ROOT = Path(__file__).resolve().parents[1]


def test_atomic_write_on_a_full_disk_names_the_target(tmp_path: Path) -> None:
    target = tmp_path / "out" / "train.json"
    with pytest.raises(io.DiskFullError) as error, io.atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert str(error.value).startswith(f"no space left on the device while writing {target};")
    assert "free space on" in str(error.value) and error.value.errno == errno.ENOSPC
    assert list(target.parent.iterdir()) == []  # no half-written file left


def test_training_on_a_full_disk_exits_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = torch_spec(tmp_path, epochs=1, limit_train=64)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full)  # the first checkpoint hits the full disk
    argv = ["train", "--study", spec.study, "--dataset", spec.dataset, "--model", spec.model]
    argv += ["--act", spec.act, "--precision", spec.precision, "--backend", spec.backend]
    argv += ["--seed", "0", "--run-dir", str(spec.run_dir), "--data-dir", str(spec.data_dir)]
    argv += ["--study-json", json.dumps(spec.study_config)]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(ROOT / "scripts" / "train.py"), run_name="__main__")
    message = str(exit_.value.code)
    assert message.startswith("no space left on the device while writing ")
    assert str(spec.run_dir) in message and "\n" not in message


def test_every_script_exits_with_one_line_on_a_full_disk() -> None:
    """Each rule's script runs its main under io.full_disk_exits (a new script included); a
    per-run job's script through `jobs.cli.run`, which does (tests/test_jobs.py)."""
    guards = ("with io.full_disk_exits():\n        main()", "\n    cli.run(")
    unguarded = [
        path.name
        for path in sorted((ROOT / "scripts").glob("*.py"))
        if not any(guard in path.read_text() for guard in guards)
    ]
    assert not unguarded, unguarded
