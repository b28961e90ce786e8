"""Unavailable backends are settled when the DAG is planned: a device this host certainly lacks
gives each of its runs one skip job, with the reason, and no train, evaluate or benchmark job."""

import json
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tradeoffs import availability
from tradeoffs.availability import absent_device

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def no_driver(monkeypatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(availability, "NVIDIA_DRIVER_SIGNS", (Path("/no/such/driver"),))


def test_cuda_is_absent_without_any_sign_of_a_driver(monkeypatch):
    no_driver(monkeypatch)
    assert "no NVIDIA driver" in absent_device("cuda")
    assert absent_device("cpu") is None


def test_any_sign_of_a_driver_leaves_cuda_to_the_job(monkeypatch, tmp_path):
    no_driver(monkeypatch)
    monkeypatch.setattr(availability, "NVIDIA_DRIVER_SIGNS", (tmp_path,))
    assert absent_device("cuda") is None
    no_driver(monkeypatch)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    assert absent_device("cuda") is None


def test_mps_needs_an_apple_silicon_mac(monkeypatch):
    monkeypatch.setattr(platform, "system", lambda: "Linux")
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    assert "Apple-silicon" in absent_device("mps")
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    monkeypatch.setattr(platform, "machine", lambda: "arm64")
    assert absent_device("mps") is None


def study_config(tmp_path: Path, **top) -> Path:
    config = {
        "results_dir": str(tmp_path / "results"),
        "data_dir": str(tmp_path / "data"),
        **top,
        "studies": {
            "backends": {
                "datasets": ["synthetic"],
                "models": ["mnist_cnn"],
                "backends": ["torch-cpu", "torch-mps"],
                "train": {"epochs": 1, "batch_size": 32},
                "benchmark": {"warmup": 1, "repeats": 3},
            }
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def snakemake(tmp_path: Path, config: Path, *args: str) -> subprocess.CompletedProcess:
    command = [SNAKEMAKE, "--cores", "1", "--workflow-profile", "none", *args]
    return subprocess.run(
        [*command, "--configfile", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.skipif(absent_device("mps") is None, reason="this host may have MPS")
def test_a_local_run_of_an_absent_device_is_one_skip_job(tmp_path):
    config = study_config(tmp_path)
    planned = snakemake(tmp_path, config, "-n")
    assert planned.returncode == 0, planned.stderr
    jobs = re.findall(
        r"^(?:local)?rule (\w+):\n(?:.*\n)*?\s+wildcards: (.*)$", planned.stdout, re.M
    )
    mps = {rule for rule, wildcards in jobs if "backend=torch-mps" in wildcards}
    cpu = {rule for rule, wildcards in jobs if "backend=torch-cpu" in wildcards}
    assert mps == {"skip_run"}
    assert {"train_torch", "benchmark", "metrics"} <= cpu  # train evaluates its own dataset
    # The figures read completed runs only: no job waits on a skipped run's history or tables.
    figures = re.search(r"^rule figures_\w+:\n\s+input: (.*)$", planned.stdout, re.M)
    assert "torch-cpu/seed0/history.csv" in figures.group(1)
    assert "torch-mps/seed0/history.csv" not in planned.stdout

    run = tmp_path / "results/backends/runs/synthetic/mnist_cnn/relu/fp32/torch-mps/seed0"
    target = str(run / "metrics.json")
    done = snakemake(tmp_path, config, target)
    assert done.returncode == 0, done.stdout + done.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "skipped"
    assert "Apple-silicon" in metrics["reason"]
    assert (run / "model.pt").stat().st_size == 0  # a skipped run's weights are empty
    assert (run / "history.csv").exists() and (run / "eval" / "synthetic.json").exists()
    assert "skipped: torch-mps" in (run / "logs" / "skip_run.log").read_text()


@pytest.mark.skipif(absent_device("mps") is None, reason="this host may have MPS")
def test_an_absent_device_without_skip_unavailable_stops_before_any_job(tmp_path):
    config = study_config(tmp_path, skip_unavailable=False)
    planned = snakemake(tmp_path, config, "-n")
    assert planned.returncode != 0
    out = planned.stdout + planned.stderr
    assert "torch-mps: Apple Metal (MPS) needs an Apple-silicon Mac" in out
    assert "skip_unavailable: true" in out and "Traceback" not in out
    assert not (tmp_path / "results").exists()
