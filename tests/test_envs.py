"""envs/*.yaml (for --sdm conda) name the same packages and pins as requirements.txt."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "envs" / "runner.yaml"
ENVS = sorted(p for p in (ROOT / "envs").glob("*.yaml") if p != RUNNER)


def pins(lines) -> dict[str, str]:
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line).groups()
            found[name.lower().replace("_", "-")] = version
    return found


REQUIREMENTS = pins((ROOT / "requirements.txt").read_text().splitlines())


def env_pins(path: Path) -> dict[str, str]:
    deps = yaml.safe_load(path.read_text())["dependencies"]
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    return pins(pip)


def test_every_framework_has_an_env():
    assert {p.stem for p in ENVS} == {"torch", "tensorflow", "numba", "analysis", "dashboard"}


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_pins_equal_requirements(path):
    for name, version in env_pins(path).items():
        assert name in REQUIREMENTS, f"{path.name}: {name} is not in requirements.txt"
        assert REQUIREMENTS[name] == version, f"{path.name}: {name}=={version} differs"


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_python_matches_the_project(path):
    deps = yaml.safe_load(path.read_text())["dependencies"]
    assert "python=3.11" in deps


@pytest.mark.parametrize(
    ("env", "packages"),
    [
        ("torch", {"torch", "torchvision", "numpy"}),
        ("tensorflow", {"tensorflow", "tf-keras", "larq"}),
        ("numba", {"numba", "numpy"}),
        ("analysis", {"pandas", "matplotlib"}),
    ],
)
def test_env_has_its_framework(env, packages):
    assert packages <= set(env_pins(ROOT / "envs" / f"{env}.yaml"))


def test_rules_name_existing_envs():
    named = set()
    for rule_file in (ROOT / "rules").glob("*.smk"):
        named |= set(re.findall(r'"\.\./envs/([a-z]+\.yaml)"', rule_file.read_text()))
    assert named
    assert named <= {p.name for p in ENVS}


def test_runner_env_pins_no_framework():
    """The runner env holds Snakemake and its plugins, and leaves numpy/pandas unpinned so a
    plugin that wants newer ones installs beside it."""
    deps = yaml.safe_load(RUNNER.read_text())["dependencies"]
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    pinned = pins(line for line in pip if "==" in line)
    assert {"snakemake", "snakemake-executor-plugin-slurm", "jsonschema", "pyyaml"} <= set(pinned)
    assert not {"torch", "tensorflow", "numba", "numpy", "pandas"} & set(pinned)
    assert pinned["snakemake"] == REQUIREMENTS["snakemake"]


def test_makefile_reads_the_runner_pins():
    """`make runner` installs exactly the runner env's pip list (its sed extraction)."""
    deps = yaml.safe_load(RUNNER.read_text())["dependencies"]
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    sed = re.search(r"sed -n '(.*)' envs/runner.yaml", (ROOT / "Makefile").read_text()).group(1)
    out = subprocess.run(
        ["sed", "-n", sed.replace("$$", "$"), str(RUNNER)], capture_output=True, text=True
    )
    assert out.stdout.split() == pip
