"""One engine per framework; each provides train(spec), predict(spec, dataset), benchmark(spec).

Imported lazily so a torch job never loads TensorFlow and the reverse.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def load(framework: str) -> ModuleType:
    return importlib.import_module(f"tradeoffs.engines.{framework}_engine")
