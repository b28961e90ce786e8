"""A small study runs with each framework's rules in its own virtualenv (config `python:`).

Each virtualenv sees only its env file's packages (tests/envtools.py), so a torch job that
reached for TensorFlow, or a metrics job that reached for torch, would fail here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from envtools import linked_env

from tradeoffs.interpreters import ENV_FILES

ROOT = Path(__file__).resolve().parents[1]
RUN = "runs/digits/{model}/relu/fp32/{backend}/seed0"
TRAIN = {"epochs": 1, "batch_size": 64, "optimizer": "sgd", "lr": 0.01, "limit_train": 128}


@pytest.mark.slow
def test_each_framework_runs_in_its_own_env(tmp_path):
    pythons = {fw: linked_env(Path(name).stem, tmp_path / fw) for fw, name in ENV_FILES.items()}
    config = {
        "data_dir": str(tmp_path / "data"),
        "results_dir": str(tmp_path / "results"),
        "threads": 1,
        "python": {fw: str(p) for fw, p in pythons.items()},
        "studies": {
            "backends": {
                "datasets": ["digits"],
                "models": ["mnist_cnn"],
                "backends": ["torch-cpu", "numba-cpu"],
                "train": TRAIN,
                "benchmark": {"warmup": 1, "repeats": 3},
            },
            "binary": {
                "datasets": ["digits"],
                "models": ["cnn"],
                "backends": ["keras-cpu"],
                "train": {**TRAIN, "optimizer": "adam", "lr": 0.001},
                "benchmark": {"warmup": 1, "repeats": 3},
            },
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    runs = {
        "backends": [("mnist_cnn", "torch-cpu"), ("mnist_cnn", "numba-cpu")],
        "binary": [("cnn", "keras-cpu")],
    }
    targets = [
        tmp_path / "results" / study / RUN.format(model=m, backend=b) / "metrics.json"
        for study, pairs in runs.items()
        for m, b in pairs
    ]
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", *map(str, targets), "--cores", "2", "-p"]
        + ["--workflow-profile", "none", "--configfile", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    for fw, python in pythons.items():
        assert f"{python} scripts/" in result.stdout + result.stderr, f"no {fw} job ran"
    for target in targets:
        metrics = json.loads(target.read_text())
        assert metrics["status"] == "ok", (target, metrics.get("reason"))
