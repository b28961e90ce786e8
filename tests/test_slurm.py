"""profiles/slurm on a real scheduler: tests/slurm/start.sh's one-node SLURM (CI starts it).

A small study goes through sbatch and matches a local run; a cancelled job and a job past its
time limit stop Snakemake with the job's log path; a request no node can satisfy is refused
before any submission; a GPU backend on this GPU-less cluster is skipped without a job.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / ".venv-runner" / "bin" / "snakemake"
RUN = "runs/digits/mnist_cnn/relu/fp32/{}/seed0"
SUBMITTED = re.compile(r"submitted with SLURM jobid (\d+) \(log: (\S+)\)")

pytestmark = pytest.mark.slow
# tests/slurm/start.sh keeps its configuration in its own state directory; SLURM's clients
# (sinfo, sbatch, the executor plugin) find it through SLURM_CONF.
STATE = Path(os.environ.get("SLURM_STATE", "/tmp/tradeoffs-slurm"))
os.environ.setdefault("SLURM_CONF", str(STATE / "etc" / "slurm.conf"))


def slurm_up() -> str | None:
    """Why the cluster test cannot run here, or None."""
    if shutil.which("sinfo") is None:
        return "SLURM is not installed: run tests/slurm/start.sh (as root) first"
    nodes = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True)
    if nodes.returncode != 0 or not {"idle", "mix", "alloc"} & set(nodes.stdout.split()):
        return f"the SLURM daemons are not up ({nodes.stderr.strip()}): run tests/slurm/start.sh"
    if not RUNNER.exists():
        return "the runner env is missing: run `make runner`"
    return None


@pytest.fixture(scope="module")
def cluster() -> None:
    reason = slurm_up()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("slurm_data")


def study(tmp_path: Path, data_dir: Path, backends: list[str], **train) -> Path:
    config = {
        "data_dir": str(data_dir),
        "results_dir": str(tmp_path / "results"),
        "threads": 1,
        "studies": {
            "backends": {
                "datasets": ["digits"],
                "models": ["mnist_cnn"],
                "backends": backends,
                "train": {
                    "epochs": 1,
                    "batch_size": 64,
                    "optimizer": "sgd",
                    "lr": 0.01,
                    "limit_train": 256,
                    **train,
                },
                "benchmark": {"warmup": 1, "repeats": 3},
            }
        },
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def on_slurm(config: Path, targets: list[Path], *args: str) -> subprocess.Popen:
    log = config.with_suffix(".log").open("w")
    command = [str(RUNNER), *map(str, targets), "--profile", "profiles/slurm", *args]
    command += ["--configfile", str(config)]
    return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)


def output(config: Path) -> str:
    return config.with_suffix(".log").read_text()


def sacct(job_ids: list[str]) -> dict[str, str]:
    out = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-o", "JobID,State", "-j", ",".join(job_ids)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split("|") for line in out.split())


def test_study_runs_through_the_scheduler(cluster, data_dir, tmp_path):
    config = study(tmp_path, data_dir, ["torch-cpu", "torch-cuda"])
    results = tmp_path / "results" / "backends"
    targets = [results / RUN.format(b) / "metrics.json" for b in ("torch-cpu", "torch-cuda")]
    process = on_slurm(config, targets)
    assert process.wait(timeout=1200) == 0, output(config)
    jobs = dict(SUBMITTED.findall(output(config)))
    # prepare, train (evaluating its own dataset), benchmark, metrics of torch-cpu; torch-cuda
    # needs no job
    assert len(jobs) == 4, output(config)
    assert set(sacct(list(jobs)).values()) == {"COMPLETED"}
    skipped = json.loads((results / RUN.format("torch-cuda") / "metrics.json").read_text())
    assert skipped["status"] == "skipped" and "no GPU node" in skipped["reason"]

    local = tmp_path / "local"
    local_config = study(local, data_dir, ["torch-cpu"])
    local_run = local / "results" / "backends" / RUN.format("torch-cpu")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            str(local_run / "eval" / "digits.json"),
            "--workflow-profile",
            "none",
            "--cores",
            "1",
            "--configfile",
            str(local_config),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=900,
    )
    cluster_run = results / RUN.format("torch-cpu")
    for name in ("history.csv", "eval/digits_confusion.csv"):
        local_rows = (local_run / name).read_text().splitlines()
        cluster_rows = (cluster_run / name).read_text().splitlines()
        if name == "history.csv":  # the time columns differ; losses and accuracies must not
            header = local_rows[0].split(",")
            keep = [i for i, c in enumerate(header) if "loss" in c or "acc" in c]
            local_rows = [[r.split(",")[i] for i in keep] for r in local_rows]
            cluster_rows = [[r.split(",")[i] for i in keep] for r in cluster_rows]
        assert local_rows == cluster_rows, name


def wait_for_running_train(process: subprocess.Popen, config: Path, limit: float) -> tuple:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None:
        for job_id, log in SUBMITTED.findall(output(config)):
            if "rule_train_torch" in log:
                state = subprocess.run(
                    ["squeue", "-h", "-j", job_id, "-o", "%T"], capture_output=True, text=True
                ).stdout.strip()
                if state == "RUNNING":
                    return job_id, log
        time.sleep(2)
    raise AssertionError(f"no running train job:\n{output(config)}")


def train_target(tmp_path: Path) -> Path:
    return tmp_path / "results" / "backends" / RUN.format("torch-cpu") / "train.json"


def test_cancelled_job_stops_the_run(cluster, data_dir, tmp_path):
    config = study(tmp_path, data_dir, ["torch-cpu"], epochs=500, limit_train=None)
    process = on_slurm(config, [train_target(tmp_path)])
    job_id, log = wait_for_running_train(process, config, limit=600)
    subprocess.run(["scancel", job_id], check=True)
    started = time.monotonic()
    assert process.wait(timeout=300) != 0
    assert time.monotonic() - started < 300
    assert log in output(config) and "Error in rule train_torch" in output(config)


def test_job_past_its_time_limit_stops_the_run(cluster, data_dir, tmp_path):
    config = study(tmp_path, data_dir, ["torch-cpu"], epochs=500, limit_train=None)
    resources = ["--set-resources", "train_torch:runtime=1", "train_torch:mem_mb=2000"]
    process = on_slurm(config, [train_target(tmp_path)], *resources)
    job_id, log = wait_for_running_train(process, config, limit=600)
    started = time.monotonic()
    assert process.wait(timeout=420) != 0
    assert time.monotonic() - started < 420
    assert sacct([job_id])[job_id] == "TIMEOUT"
    assert log in output(config) and "Error in rule train_torch" in output(config)


def test_request_no_node_can_run_is_refused_before_submission(cluster, data_dir, tmp_path):
    config = study(tmp_path, data_dir, ["torch-cpu"])
    text = yaml.safe_load(config.read_text())
    text["threads"] = 4096
    config.write_text(yaml.safe_dump(text))
    process = on_slurm(config, [train_target(tmp_path)])
    assert process.wait(timeout=300) != 0
    assert "No node of the cluster can run these jobs" in output(config)
    assert re.search(r"train_torch: asks for 4096 CPUs, \d+ MB memory, 0 GPUs", output(config))
    assert not SUBMITTED.search(output(config))
