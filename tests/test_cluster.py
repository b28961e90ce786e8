"""The nodes' shape (sinfo or config), the jobs none can run, and each framework's interpreter."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tradeoffs import cluster
from tradeoffs.config import ConfigError
from tradeoffs.interpreters import ENV_FILES, default_python, interpreters

ROOT = Path(__file__).resolve().parents[1]


def test_gpus_are_counted_from_sinfo_gres():
    assert cluster.parse_gpus("(null)") == 0
    assert cluster.parse_gpus("gpu:4") == 4
    assert cluster.parse_gpus("gpu:a100:2(S:0-1),tmpdisk:100") == 2
    assert cluster.parse_gpus("gpu:v100:1,gpu:a100:2") == 3


def test_sinfo_lines_become_distinct_nodes():
    text = "2|19284|(null)\n2|19284|(null)\n64|256000+|gpu:a100:4(S:0-1)\n"
    assert cluster.parse_sinfo(text) == [
        cluster.Node(2, 19284, 0),
        cluster.Node(64, 256000, 4),
    ]


def test_stated_shape_needs_no_sinfo():
    stated = {"cores_per_node": 8, "mem_mb_per_node": 32000, "gpus_per_node": 0}
    assert cluster.read_nodes(stated) == [cluster.Node(8, 32000, 0)]


def test_missing_sinfo_names_the_keys_to_state(monkeypatch):
    monkeypatch.setattr(cluster.shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="cluster.mem_mb_per_node, cluster.gpus_per_node"):
        cluster.read_nodes({"cores_per_node": 8})


def test_requests_no_node_fits_are_named_with_numbers():
    nodes = [cluster.Node(4, 16000, 0), cluster.Node(2, 64000, 0)]
    jobs = [("train_torch", 8, 1000, 0), ("prepare", 2, 32000, 0), ("train_torch", 8, 1000, 0)]
    jobs.append(("evaluate", 4, 8000, 0))
    assert cluster.unsatisfiable(jobs, nodes) == [
        "train_torch: asks for 8 CPUs, 1000 MB memory, 0 GPUs; "
        "the largest node has 4 CPUs, 64000 MB memory, 0 GPUs"
    ]
    assert cluster.unsatisfiable([("train_torch", 1, 1000, 1)], nodes)


def test_interpreters_default_and_configured(tmp_path):
    assert interpreters({}, tmp_path, conda=True) == dict.fromkeys(ENV_FILES, "python")
    assert default_python(tmp_path, conda=False) == sys.executable
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to(sys.executable)
    chosen = interpreters({"torch": sys.executable}, tmp_path, conda=False)
    assert chosen["torch"] == sys.executable
    assert chosen["keras"] == str(tmp_path / ".venv" / "bin" / "python")


def test_a_missing_interpreter_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"python.numba: '/no/such/python'.*envs/numba.yaml"):
        interpreters({"numba": "/no/such/python"}, tmp_path, conda=False)


def plan(tmp_path, gpus_per_node: int, **stated) -> str:
    """Dry-run a torch-cpu + torch-cuda study on a cluster of the stated shape."""
    config = {
        "results_dir": str(tmp_path / f"results{gpus_per_node}"),
        "data_dir": str(tmp_path / "data"),
        "cluster": {
            "scheduler": "slurm",
            "cores_per_node": 4,
            "mem_mb_per_node": 8000,
            "gpus_per_node": gpus_per_node,
            **stated,
        },
        "studies": {
            "backends": {
                "datasets": ["digits"],
                "models": ["mnist_cnn"],
                "backends": ["torch-cpu", "torch-cuda"],
            }
        },
    }
    path = tmp_path / f"config{gpus_per_node}.yaml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--workflow-profile", "none"]
        + ["--configfile", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_gpu_runs_on_a_gpu_less_cluster_are_skipped_without_a_job(tmp_path):
    planned = plan(tmp_path, gpus_per_node=0)
    jobs = re.findall(r"^(?:local)?rule (\w+):\n(?:.*\n)*?\s+wildcards: (.*)$", planned, re.M)
    cuda = {rule for rule, wildcards in jobs if "backend=torch-cuda" in wildcards}
    assert cuda == {"skip_run"}
    with_gpus = plan(tmp_path, gpus_per_node=1, partition="gpu", account="lab")
    assert "skip_run" not in with_gpus
    assert re.search(r"backend=torch-cuda.*\n(?:.*\n)*?\s+resources: .*gpu=1", with_gpus)
    # every job's resources but rule all's (a target list, never submitted)
    resources = re.findall(r"^\s+resources: (.*)$", with_gpus, re.M)[:-1]
    assert resources and all("slurm_partition=gpu" in r for r in resources)
    assert all("slurm_account=lab" in r for r in resources)
