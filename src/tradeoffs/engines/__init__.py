"""One engine package per framework (`engines/torch/`, `engines/numba/`, `engines/keras/`); each
provides train(spec), predict(spec, dataset), benchmark(spec). `engines/record.py` beside them
turns what every engine measures per epoch into history.csv and train.json.

Imported lazily so a torch job never loads TensorFlow and the reverse.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def load(framework: str) -> ModuleType:
    """The engine package of `framework` (torch, numba or keras)."""
    return importlib.import_module(f"tradeoffs.engines.{framework}")
