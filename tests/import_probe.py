"""Import one rule's code as its job would, and name every import of ours that failed.

Run by tests/test_env_imports.py with an env's interpreter: `python import_probe.py SCRIPT ...
[--framework F] [--backends B ...] [--packages P ...]`. Imports each SCRIPT (without its main),
the framework's engine through `tradeoffs.engines.load` and every module of the given packages,
and asks each backend's availability check (which imports the framework lazily). Exit 1 lists
each module that our code (src/ or scripts/) tried and could not import, even inside a try.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import inspect
import pkgutil
import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = (str(ROOT / "src"), str(ROOT / "scripts"))
missed: list[tuple[str, str]] = []


class MissRecorder:
    """Last on sys.meta_path: asked only when no other finder found the module."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        for frame in inspect.stack()[1:]:
            if not frame.filename.startswith("<frozen") and "importlib" not in frame.filename:
                if frame.filename.startswith(OURS):
                    missed.append((name, f"{frame.filename}:{frame.lineno}"))
                break
        return None


def import_all(package: str) -> None:
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(getattr(module, "__path__", []), f"{package}."):
        importlib.import_module(info.name)


def lazy_imports_missing() -> list[tuple[str, str]]:
    """Imports inside functions of the loaded engine and model modules (they run only on some
    paths, e.g. TensorBoard logging) that this env could not satisfy."""
    folders = tuple(str(ROOT / "src" / "tradeoffs" / part) for part in ("engines", "models"))
    missing = []
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None) or ""
        if not file.startswith(folders):
            continue
        for node in ast.walk(ast.parse(Path(file).read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                try:
                    found = importlib.util.find_spec(name) is not None
                except ImportError:
                    found = False
                if not found:
                    missing.append((name, f"{file}:{node.lineno}"))
    return missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scripts", type=Path, nargs="+")
    parser.add_argument("--framework")
    parser.add_argument("--backends", nargs="*", default=[])
    parser.add_argument("--packages", nargs="*", default=[])
    args = parser.parse_args()
    sys.meta_path.append(MissRecorder())
    errors = []
    for script in args.scripts:
        sys.argv = [str(script)]
        try:
            runpy.run_path(str(script), run_name="import_probe")
        except ImportError as exc:
            errors.append(f"{script.name}: {type(exc).__name__}: {exc}")
    try:
        if args.framework:
            from tradeoffs import engines
            from tradeoffs.availability import unavailable_reason

            engines.load(args.framework)
            for backend in args.backends:
                unavailable_reason(backend)
        for package in args.packages:
            import_all(package)
        missed.extend(lazy_imports_missing())
    except ImportError as exc:
        errors.append(f"{args.framework}: {type(exc).__name__}: {exc}")
    for name, where in sorted(set(missed)):
        print(f"import {name} failed at {where}")
    print("\n".join(errors))
    sys.exit(1 if missed or errors else 0)


if __name__ == "__main__":
    main()
