"""Each rule's env file lists everything its job imports (checked without conda).

Every job of the default config (plus a downloaded dataset, and the cluster's skip rule) is
planned with config `python:` pointing each framework at a virtualenv that sees only its env
file's packages (tests/envtools.py); each planned command's script is then imported, with the
engine its framework reaches, by that interpreter, and any import of ours that fails is named.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from envtools import linked_env

from tradeoffs import registry
from tradeoffs.interpreters import ENV_FILES

ROOT = Path(__file__).resolve().parents[1]
PROBE = ROOT / "tests" / "import_probe.py"
HEAVY = ("torch", "tensorflow", "keras", "numba")


@pytest.fixture(scope="module")
def env_pythons(tmp_path_factory) -> dict[str, Path]:
    """One restricted interpreter per framework."""
    base = tmp_path_factory.mktemp("envs")
    return {fw: linked_env(Path(name).stem, base / fw) for fw, name in ENV_FILES.items()}


def planned_commands(
    tmp_path: Path, pythons: dict[str, Path], extra: dict, targets: tuple[str, ...] = ()
) -> str:
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["studies"]["backends"]["datasets"] = ["digits", "mnist"]
    # another dataset to evaluate on, so that evaluate jobs are planned (train evaluates its own)
    config["studies"]["backends"]["eval_on"] = ["mnist"]
    # a second runtime, so that GPU runs on a GPU-less cluster plan skip_bench too
    config["studies"]["backends"]["runtimes"] = ["eager", "onnxruntime"]
    tmp_path.mkdir(parents=True, exist_ok=True)
    config["studies"].update(pretrained_studies(tmp_path))
    config.update(
        results_dir=str(tmp_path / "results"),
        data_dir=str(tmp_path / "data"),
        python={fw: str(p) for fw, p in pythons.items()},
        **extra,
    )
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "-p", "--cores", "1", *targets]
        + ["--configfile", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def pretrained_studies(folder: Path) -> dict:
    """Studies of trained files (a torch state dict, a Keras HDF5 file), so that the import
    rules are planned too."""
    import h5py
    import torch

    torch.save({"weight": torch.zeros(1)}, folder / "sd.pt")
    with h5py.File(folder / "model.h5", "w") as handle:
        handle.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {}})
    builder = ROOT / "examples" / "models" / "mynet.py"
    entry = {"file": str(folder / "sd.pt"), "framework": "torch", "builder": f"{builder}:build"}
    return {
        "imported_torch": {
            "datasets": ["digits"],
            "backends": ["torch-cpu"],
            "pretrained": {"statedict": entry},
        },
        "imported_keras": {
            "datasets": ["digits"],
            "backends": ["keras-cpu"],
            "pretrained": {"kfile": {"file": str(folder / "model.h5"), "framework": "keras"}},
        },
    }


def jobs(planned: str, pythons: dict[str, Path]) -> tuple[dict, set[str]]:
    """{(env's framework, script, job's framework or None): a rule} and every rule seen."""
    by_python = {str(p): fw for fw, p in pythons.items()}
    found, covered = {}, set()
    rule = None
    for line in planned.splitlines():
        if line.startswith(("rule ", "localrule ")):
            rule = line.split()[1].rstrip(":")
        calls = list(re.finditer(r"'?(/\S+/bin/python)'? (scripts/\w+\.py)", line))
        ends = [call.start() for call in calls[1:]] + [len(line)] * bool(calls)
        for call, end in zip(calls, ends, strict=True):
            tail = line[call.end() : end]
            backend = re.search(r"--backend ([\w-]+)", tail)
            job_fw = registry.BACKENDS[backend.group(1)].framework if backend else None
            found[(by_python[call.group(1)], call.group(2), job_fw)] = rule
            covered.add(rule)
    return found, covered


@pytest.mark.slow
def test_every_rule_imports_only_its_env(env_pythons, tmp_path):
    """Every rule's script, with the engine its framework loads, imports in its own env."""
    planned = planned_commands(tmp_path / "local", env_pythons, {})
    planned += planned_commands(tmp_path / "bundle", env_pythons, {}, ("bundle",))
    planned += planned_commands(
        tmp_path / "cluster",
        env_pythons,
        {
            "cluster": {
                "scheduler": "slurm",
                "cores_per_node": 4,
                "mem_mb_per_node": 16000,
                "gpus_per_node": 0,
            }
        },
    )
    found, covered = jobs(planned, env_pythons)
    rules = subprocess.run(
        [sys.executable, "-m", "snakemake", "--list-rules"]
        + ["--configfile", str(tmp_path / "cluster" / "config.yaml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # run_step is the rule every per-run step is made from (use rule ... with); it never runs.
    assert {r for r in rules if r not in ("all", "run_step")} <= covered
    groups: dict[tuple[str, str | None], dict[str, str]] = {}
    for (env_fw, script, job_fw), rule in found.items():
        if env_fw != "analysis":
            assert job_fw == env_fw, f"rule {rule} runs a {job_fw} job with the {env_fw} env"
        groups.setdefault((env_fw, job_fw if env_fw != "analysis" else None), {})[script] = rule
    failures = []
    for (env_fw, job_fw), scripts in sorted(groups.items(), key=str):
        command = [str(env_pythons[env_fw]), str(PROBE), *(str(ROOT / s) for s in sorted(scripts))]
        if job_fw:
            backends = [b for b, info in registry.BACKENDS.items() if info.framework == job_fw]
            command += ["--framework", job_fw, "--backends", *backends]
            command += ["--packages", f"tradeoffs.models.{job_fw}"]
        else:
            command += ["--packages", "tradeoffs.analysis.figures"]
        result = subprocess.run(
            command,
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={"PYTHONPATH": str(ROOT / "src"), "TF_USE_LEGACY_KERAS": "1", "PATH": "/usr/bin"},
            timeout=600,
        )
        if result.returncode != 0:
            rules = ", ".join(sorted(set(scripts.values())))
            failures.append(f"{ENV_FILES[env_fw]} ({rules}):\n{result.stdout}")
    assert not failures, "\n".join(failures)


def test_analysis_env_holds_no_framework(env_pythons):
    """The metrics, figure, table and report rules never import torch or TensorFlow."""
    for name in HEAVY:
        probe = f"import importlib.util as u; print(u.find_spec({name!r}) is None)"
        out = subprocess.run(
            [str(env_pythons["analysis"]), "-c", probe], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "True", f"{name} is importable in the analysis env"


def test_runner_env_plans_the_workflow(tmp_path):
    """The runner env (Snakemake, no framework) imports what the Snakefile needs."""
    python = linked_env("runner", tmp_path / "runner")
    result = subprocess.run(
        [str(python), "-m", "snakemake", "-n", "--cores", "1", "--workflow-profile", "none"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": "", "PATH": "/usr/bin"},
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in HEAVY:
        assert not (
            Path(python).parents[1] / "lib" / "python3.11" / "site-packages" / name
        ).exists()
