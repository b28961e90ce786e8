"""Load a declared model's builder, `"/abs/path/file.py:function"`, from a file of the user's.
Framework-free: the torch and Keras builders both use it."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any


class ExternalModelError(ValueError):
    """A model from outside the package that cannot be built, worded for its author."""


def load_module(path: str | Path) -> ModuleType:
    """The Python file at `path`, imported once per process under a name of its own."""
    path = Path(path)
    name = "tradeoffs_user_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ExternalModelError(f"{path} is not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def builder_function(builder: str) -> Callable[..., Any]:
    """The function a resolved `"/abs/file.py:function"` names."""
    file, function = builder.rsplit(":", 1)
    module = load_module(file)
    found = getattr(module, function, None)
    if not callable(found):
        raise ExternalModelError(f"{file} has no function {function!r}")
    return found
