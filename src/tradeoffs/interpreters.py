"""Which Python runs each framework's rules: one env file per framework (envs/*.yaml).

Where conda is absent, config `python:` points a framework at an existing interpreter (a
virtualenv built from that framework's env file); jobs never depend on what the submitting shell
happened to activate.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from tradeoffs.configerror import ConfigError

# The framework of every rule and the env file that lists everything its scripts import.
ENV_FILES = {
    "torch": "torch.yaml",
    "numba": "numba.yaml",
    "keras": "tensorflow.yaml",
    "analysis": "analysis.yaml",
}


def default_python(basedir: str | Path, conda: bool) -> str:
    """The rule env's `python` under --sdm conda; else the checkout's .venv, else this Python."""
    if conda:
        return "python"
    venv = Path(basedir) / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def interpreters(configured: Mapping[str, str], basedir: str | Path, conda: bool) -> dict[str, str]:
    """The interpreter of each framework: the config's `python.<framework>`, else the default."""
    chosen = {}
    for framework, env_file in ENV_FILES.items():
        path = configured.get(framework)
        if path is None:
            chosen[framework] = default_python(basedir, conda)
        elif shutil.which(path) is None or not os.access(shutil.which(path), os.X_OK):
            raise ConfigError(
                f"python.{framework}: {path!r} is not an executable file. Point it at the python "
                f"of an environment built from envs/{env_file}, or remove the key to use "
                f"{default_python(basedir, conda)}."
            )
        else:
            chosen[framework] = path
    return chosen
