"""Virtualenvs that expose only one env file's packages, linked from the running .venv.

A conda env built from `envs/NAME.yaml` holds the distributions that file names plus their
dependency closure. `linked_env` builds the same view without a download: a fresh virtualenv
whose site-packages links, from this interpreter's site-packages, only those distributions'
files. An import of anything else fails there just as it would in the real env.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(?:[=<>!~].*)?")


def env_packages(env: str) -> list[str]:
    """The pip distributions `envs/{env}.yaml` names (pinned or not)."""
    deps = yaml.safe_load((ROOT / "envs" / f"{env}.yaml").read_text())["dependencies"]
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    return [canonicalize_name(PIN.fullmatch(line.strip()).group(1)) for line in pip]


def dependency_closure(names: Iterable[str]) -> set[str]:
    """Every installed distribution the named ones need (extras and other platforms left out).

    A named distribution that this interpreter lacks is left out too (the runner env's executor
    plugin cannot be installed beside the project's pins)."""
    todo, found = [canonicalize_name(n) for n in names], set()
    while todo:
        name = todo.pop()
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found.add(name)
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(req.name))
    return found


@cache
def _owned_paths() -> dict[str, dict[Path, set[str]]]:
    """For each site-packages folder, which distributions own each path in it."""
    owners: dict[str, dict[Path, set[str]]] = defaultdict(lambda: defaultdict(set))
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        base = Path(dist.locate_file(""))
        for file in dist.files or []:
            if file.parts and file.parts[0] != ".." and not file.name.endswith(".pth"):
                for depth in range(1, len(file.parts) + 1):
                    owners[str(base)][Path(*file.parts[:depth])].add(name)
    return owners


def _link(owners: dict[Path, set[str]], wanted: set[str], src: Path, dest: Path) -> None:
    """Link whole folders owned by wanted distributions only; descend into shared ones."""
    children = defaultdict(set)
    for path in owners:
        children[path.parent].add(path)
    stack = [Path(".")]
    while stack:
        folder = stack.pop()
        for path in children.get(folder, ()):
            names = owners[path]
            if not names & wanted or path.name == "__pycache__":
                continue
            if names <= wanted or not (src / path).is_dir():
                target = dest / path
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists() and (src / path).exists():
                    target.symlink_to(src / path)
            else:
                (dest / path).mkdir(parents=True, exist_ok=True)
                stack.append(path)


def linked_env(env: str, dest: Path, extra: Iterable[str] = ()) -> Path:
    """A virtualenv at `dest` seeing only env `env`'s closure (plus `extra`); its python."""
    wanted = dependency_closure([*env_packages(env), *extra])
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(dest)], check=True, capture_output=True
    )
    python = dest / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    for base, owners in _owned_paths().items():
        _link(owners, wanted, Path(base), Path(site))
    return python
