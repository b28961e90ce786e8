"""Jobs load only what they use: the metrics job of a run without corrupted sets (it only reads
and writes records) no pandas, scipy, plotting library or framework; the benchmark and skip
jobs and the torch engine no pandas (the eval tables are written with csv; scikit-learn loads
pandas where the train and evaluate jobs compute them), nor torch's FLOP counter (only the
train job counts FLOPs); jobs that compute no statistic no scipy.stats."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "scipy", "matplotlib", "torch", "tensorflow", "numba", "sklearn")


def heavy_modules(code: str, *args: str) -> list[str]:
    """The heavy packages running `code` (with `args` as sys.argv[1:]) loads."""
    probe = f"{code}; import sys; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""},
    )
    return done.stdout.split()


def modules_loaded_by(script: str) -> list[str]:
    """The heavy packages importing `script` (without running its main) loads."""
    run = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='probe')"
    return heavy_modules(run, str(ROOT / "scripts" / script))


def test_the_metrics_job_loads_no_heavy_package() -> None:
    assert modules_loaded_by("metrics.py") == []


def test_the_probe_sees_a_heavy_import() -> None:
    assert "pandas" in modules_loaded_by("aggregate.py")


def test_the_benchmark_job_and_torch_engine_load_no_pandas() -> None:
    code = "import runpy, sys, tradeoffs.engines as e; "
    code += "runpy.run_path(sys.argv[1], run_name='probe'); e.load('torch')"
    loaded = heavy_modules(code, str(ROOT / "scripts" / "benchmark.py"))
    assert "torch" in loaded and "pandas" not in loaded


def test_the_skip_job_loads_no_pandas() -> None:
    """The paper preset without a GPU has thousands of skip jobs: each writes empty eval
    tables with csv, not pandas (0.25 s of imports)."""
    assert "pandas" not in modules_loaded_by("skip_run.py")


def test_only_counting_flops_loads_torch_flop_counter() -> None:
    counter = "'torch.utils.flop_counter' in sys.modules"
    code = f"import sys, torch, tradeoffs.engines as e; e.load('torch'); print({counter}); "
    code += "from tradeoffs.engines.torch.bench import forward_flops; "
    code += f"print(forward_flops(torch.nn.Linear(3, 2), torch.zeros(1, 3)), {counter})"
    assert heavy_modules(code)[:3] == ["False", "12", "True"]


@pytest.mark.parametrize("script", ["skip_run.py", "runtimes.py", "serving_table.py", "timings.py"])
def test_jobs_computing_no_statistic_load_no_scipy_stats(script: str) -> None:
    """scipy.stats (0.6 s of imports) is imported where a statistic is computed."""
    code = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='probe'); "
    code += "print('scipy.stats' in sys.modules)"
    assert heavy_modules(code, str(ROOT / "scripts" / script))[:1] == ["False"]
