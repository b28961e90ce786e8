"""Folder names with spaces and shell syntax reach every rule's command as single, quoted
arguments: the dry run's commands split back into the exact paths, and real jobs create no
stray file and run nothing from a name."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
DATA = "my data $(touch PWNED) `touch PWNED`"
RESULTS = "out 'q' ;touch PWNED; \"x\""


def write_config(tmp_path: Path, **train) -> Path:
    study = {"datasets": ["digits"], "models": ["mnist_cnn"], "backends": ["torch-cpu"]}
    study["train"] = {"epochs": 1, "batch_size": 64, "limit_train": 128, **train}
    study["benchmark"] = {"warmup": 1, "repeats": 3}
    config = {
        "data_dir": str(tmp_path / DATA),
        "results_dir": str(tmp_path / RESULTS),
        "studies": {"s": study},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def snakemake(config: Path, *args: str, timeout: int = 300) -> str:
    """This checkout's workflow, run from its root as the rules expect."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    command = [SNAKEMAKE, *args, "--nolock", "--configfile", str(config)]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def no_stray_files(tmp_path: Path) -> None:
    assert not list(tmp_path.rglob("PWNED")) and not (ROOT / "PWNED").exists()
    outside = [p for p in tmp_path.iterdir() if p.name not in (DATA, RESULTS, "config.yaml")]
    assert not outside


def test_every_planned_command_keeps_each_path_one_argument(tmp_path):
    config = write_config(tmp_path)
    planned = snakemake(config, "-n", "-p", "--cores", "1")
    commands = [
        line.split("Shell command: ", 1)[1]
        for line in planned.splitlines()
        if line.startswith("Shell command: ")
    ]
    assert len(commands) >= 8  # prepare, train, evaluate, benchmark, metrics, tables, figures
    for command in commands:
        for word in shlex.split(command):
            if "PWNED" in word:
                assert word.startswith((str(tmp_path / DATA), str(tmp_path / RESULTS))), command
    prepare = next(c for c in commands if "scripts/prepare.py" in c)
    words = shlex.split(prepare)
    assert words[words.index("--output-dir") + 1] == str(tmp_path / DATA / "prepared/digits")
    no_stray_files(tmp_path)


@pytest.mark.slow
def test_prepare_runs_in_a_hostile_folder(tmp_path):
    config = write_config(tmp_path)
    target = tmp_path / DATA / "prepared" / "digits" / "meta.json"
    snakemake(config, "--cores", "1", str(target))
    assert target.is_file()
    no_stray_files(tmp_path)


@pytest.mark.slow
def test_whole_workflow_runs_in_hostile_folders(tmp_path):
    config = write_config(tmp_path)
    snakemake(config, "--cores", "2", timeout=900)
    metrics = tmp_path / RESULTS / "s/runs/digits/mnist_cnn/relu/fp32/torch-cpu/seed0/metrics.json"
    assert metrics.is_file()
    assert (tmp_path / RESULTS / "summary" / "summary.csv").is_file()
    no_stray_files(tmp_path)
