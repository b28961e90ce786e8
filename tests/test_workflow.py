"""The workflow plans as documented: the default config, targets, and the cluster profile."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def dry_run(tmp_path, *args: str) -> str:
    """Plan the default config in an empty working directory (nothing built yet)."""
    command = [SNAKEMAKE, "-n", "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path)]
    command += [*args, "--configfile", str(ROOT / "config.yaml")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_default_config_plans_every_study(tmp_path):
    planned = dry_run(tmp_path)
    for study in ("backends", "architectures", "precision", "binary", "transfer"):
        assert f"results/{study}/runs/digits/" in planned
    # the default serves the backends and binary studies' runs (those of this host's backends)
    served = "results/backends/runs/digits/mnist_cnn/relu/fp32/torch-cpu/seed0/serving/eager.json"
    assert served in planned and "results/binary/figures/serving_latency.png" in planned
    assert "results/precision/tables/serving.csv" not in planned


def test_served_runs_chains_start_first(tmp_path):
    """A served study's train, benchmark and serving jobs get priority 1 (rules/common.smk's
    served_first), every other job none, so the serving chain never starts last."""
    prioritised = set()
    for block in re.split(r"^(?:local)?rule ", dry_run(tmp_path), flags=re.MULTILINE):
        if "priority: 1" in block:
            rule = block.split(":", 1)[0]
            prioritised.add((rule, block.split("study=", 1)[1].split(",", 1)[0]))
    served = {("backends", "torch"), ("backends", "numba"), ("binary", "keras")}
    expected = {(f"train_{framework}", study) for study, framework in served}
    expected |= {(rule, study) for rule in ("benchmark", "serving") for study, _ in served}
    assert prioritised == expected


def test_one_target_plans_only_what_it_needs(tmp_path):
    planned = dry_run(
        tmp_path, "results/backends/runs/digits/mnist_cnn/relu/fp32/numba-cpu/seed0/train.json"
    )
    assert "rule train_numba" in planned
    assert "rule train_torch" not in planned and "rule metrics" not in planned


def test_cluster_run_gets_no_local_profile():
    """profiles/slurm alone sets a cluster run's options: Snakemake applies `profiles/default`
    on top of any --profile, so the local settings live in profiles/local (make run names it)."""
    assert not (ROOT / "profiles" / "default").exists()
    runner = ROOT / ".venv-runner" / "bin" / "python"
    if not runner.exists():
        pytest.skip("the runner env (make runner) holds the SLURM executor plugin")
    probe = (
        "from snakemake.cli import parse_args; "
        "_, a = parse_args(['--profile', 'profiles/slurm']); "
        "print(a.executor, a.latency_wait, a.resources, a.slurm_status_command)"
    )
    out = subprocess.run([str(runner), "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.split() == ["slurm", "60", "{}", "squeue"], out.stderr
