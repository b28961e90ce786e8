"""Models from outside the package: ones the config declares (`models:`, a builder in a file of
the user's) and the torchvision and timm zoos by name (`torchvision:<name>`, `timm:<name>`).

Planning side only, no framework imports: names, paths, the registry facts of such a model, and
the one check that builds each of them in its framework's interpreter before any job
(`tradeoffs.modelprobe`, a subprocess, so that Snakemake never imports torch or TensorFlow).

A zoo name holds a colon, which is not portable in a folder name (Windows, macOS Finder, make,
scp's `host:path`); the config check rewrites `torchvision:resnet18` to `torchvision.resnet18`,
the name folders, wildcards, records and tables use. Both spellings name the same model.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tradeoffs import registry

ZOOS = ("torchvision", "timm")
ZOO_SHAPE = (32, 32, 3)  # a zoo network's input unless train.image_size says otherwise
BUILDER = re.compile(r"(?P<file>.+\.py):(?P<function>[A-Za-z_][A-Za-z0-9_]*)")
_ZOO_NAME = re.compile(rf"(?P<zoo>{'|'.join(ZOOS)})[:.](?P<arch>[A-Za-z0-9][A-Za-z0-9_]*)")
PROBE_TIMEOUT_S = 600


def canonical_name(name: Any) -> Any:
    """`torchvision:x` and `timm:x` as the folder-safe `torchvision.x`, `timm.x`; any other
    value unchanged."""
    if isinstance(name, str) and (match := _ZOO_NAME.fullmatch(name)):
        return f"{match['zoo']}.{match['arch']}"
    return name


def zoo_of(name: str) -> tuple[str, str] | None:
    """(zoo, architecture) of a zoo model's name in either spelling; None for any other."""
    match = _ZOO_NAME.fullmatch(name)
    return (match["zoo"], match["arch"]) if match else None


def is_zoo_prefixed(name: str) -> bool:
    """Whether `name` starts as a zoo name does (`torchvision.`, `timm:`...), which a declared
    model's name may not."""
    return any(name.startswith((f"{zoo}.", f"{zoo}:")) for zoo in ZOOS)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def resolve_declared(models: Mapping[str, Any], config_dir: Path) -> tuple[dict, list[str]]:
    """The config's `models:` with each builder's file resolved against `config_dir` (the
    directory of the config file) and its sha256 (so that editing the file reruns the model's
    jobs), and the mistakes found: a name that is not an identifier or that is taken, a builder
    that is not `file.py:function`, a missing file."""
    resolved, errors = {}, []
    for name, spec in models.items():
        where = f"models.{name}"
        if name in registry.MODELS or is_zoo_prefixed(name):
            errors.append(
                f"{where}: the name is taken by a built-in or zoo model; give your model another "
                "name"
            )
            continue
        match = BUILDER.fullmatch(spec["builder"])
        if match is None:
            errors.append(
                f"{where}.builder: {spec['builder']!r} is not FILE.py:FUNCTION, e.g. "
                "models/mynet.py:build"
            )
            continue
        path = (config_dir / Path(match["file"]).expanduser()).resolve()
        if not path.is_file():
            errors.append(
                f"{where}.builder: model {name!r}: file {path} does not exist (a relative path is "
                f"read from the config file's folder, {config_dir})"
            )
            continue
        resolved[name] = {
            "framework": spec["framework"],
            "builder": f"{path}:{match['function']}",
            "options": dict(spec["options"]),
            "sha256": sha256_of(path),
        }
    return resolved, errors


def model_impls(name: str, declared: Mapping[str, Any]) -> dict[str, registry.ModelImpl] | None:
    """The registry's implementations of `name`, a declared model's (its one framework, input
    from the dataset) or a zoo model's (torch, 32x32x3); None for an unknown name."""
    if name in registry.MODELS:
        return registry.MODELS[name]
    if name in declared:
        framework = declared[name]["framework"]
        return {framework: registry.ModelImpl(framework, None, "user")}
    if zoo_of(name):
        return {"torch": registry.ModelImpl("torch", ZOO_SHAPE, zoo_of(name)[0])}
    return None


def probe(checks: list[dict[str, Any]], python: Mapping[str, str]) -> list[str]:
    """Build every model of `checks` once in its framework's interpreter (`python`) and return
    the mistakes found, one message each (see `tradeoffs.modelprobe`)."""
    errors: list[str] = []
    for framework in sorted({check["framework"] for check in checks}):
        batch = [check for check in checks if check["framework"] == framework]
        src = str(Path(__file__).resolve().parents[1])
        try:
            result = subprocess.run(
                [python[framework], "-m", "tradeoffs.modelprobe"],
                input=json.dumps(batch),
                capture_output=True,
                text=True,
                timeout=PROBE_TIMEOUT_S,
                env=_probe_env(src),
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            errors.append(f"models: the {framework} model check could not run ({error})")
            continue
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            errors.append(
                f"models: the {framework} model check failed in {python[framework]}: "
                + " / ".join(tail)
            )
            continue
        errors += json.loads(result.stdout.strip().splitlines()[-1])
    return errors


def _probe_env(src: str) -> dict[str, str]:
    """The environment of the check subprocess: this checkout's library first, the legacy Keras
    larq needs, and nothing that lets a zoo reach the network."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    env.update(TF_USE_LEGACY_KERAS="1", HF_HUB_OFFLINE="1", TF_CPP_MIN_LOG_LEVEL="3")
    return env
