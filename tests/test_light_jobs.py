"""Jobs that only read and write records start in a fraction of a second: the metrics job of a
run without corrupted sets loads no pandas, scipy, plotting library or framework."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "scipy", "matplotlib", "torch", "tensorflow", "numba", "sklearn")


def modules_loaded_by(script: str) -> list[str]:
    """The heavy packages importing `script` (without running its main) loads."""
    probe = (
        "import runpy, sys; runpy.run_path(sys.argv[1], run_name='probe'); "
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(ROOT / "scripts" / script)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""},
    )
    return done.stdout.split()


def test_the_metrics_job_loads_no_heavy_package() -> None:
    assert modules_loaded_by("metrics.py") == []


def test_the_probe_sees_a_heavy_import() -> None:
    assert "pandas" in modules_loaded_by("aggregate.py")
