"""The run identity is written once (tradeoffs.identity) and the library has no import circle."""

from __future__ import annotations

import argparse
import ast
import re
import sys
import types
from pathlib import Path

import pytest

from tradeoffs import identity
from tradeoffs.identity import KEYS, RunId

ROOT = Path(__file__).resolve().parents[1]
RUN = RunId("paper", "my.data", "cnn", "relu", "fp32", "torch-cpu", 3)


def test_folder_pattern_arguments_and_path_name_the_same_run():
    folder = RUN.folder("res ults")
    assert folder == "res ults/paper/runs/my.data/cnn/relu/fp32/torch-cpu/seed3"
    assert identity.path_pattern("res ults").format(**RUN.keys()) == folder
    assert RunId.from_path(f"/abs/{folder}/eval/digits.json") == RUN
    assert RUN.label() == "paper/my.data/cnn/relu/fp32/torch-cpu/seed3"
    parser = argparse.ArgumentParser()
    identity.add_arguments(parser)
    assert RunId.of(parser.parse_args(RUN.args())) == RUN
    assert RunId.of({**RUN.keys(), "seed": "3", "other": 1}) == RUN


def test_relative_paths_and_globs_follow_the_layout(tmp_path):
    assert identity.run_folder_of(f"{RUN.folder('')[1:]}/eval/digits.json") == RUN.folder("")[1:]
    assert identity.run_folder_of(RUN.folder("")[1:]) is None  # the folder, not inside it
    assert identity.run_folder_of("paper/tables/runs.csv") is None
    assert identity.run_folder_of("paper/runs/a/b/c/d/e/seedX/metrics.json") is None
    made = tmp_path / RUN.folder("")[1:] / "metrics.json"
    made.parent.mkdir(parents=True)
    made.touch()
    assert list(tmp_path.glob(f"{identity.runs_glob('paper')}/metrics.json")) == [made]
    assert not list(tmp_path.glob(f"{identity.runs_glob('other')}/metrics.json"))


def test_a_path_outside_a_run_folder_is_refused():
    with pytest.raises(ValueError, match="not inside a run folder"):
        RunId.from_path("results/paper/tables/runs.csv")


def test_the_job_arguments_refuse_an_unknown_backend(capsys):
    parser = argparse.ArgumentParser()
    identity.add_arguments(parser)
    args = RUN.args()
    args[args.index("--backend") + 1] = "torch-tpu"
    with pytest.raises(SystemExit):
        parser.parse_args(args)
    assert "invalid choice: 'torch-tpu'" in capsys.readouterr().err


def test_a_study_expands_in_field_order():
    spec = {
        "datasets": ["digits"],
        "models": ["cnn", "mlp"],
        "activations": ["relu"],
        "precisions": ["fp32"],
        "backends": ["torch-cpu"],
        "seeds": [0, 1],
    }
    runs = identity.study_grid("s", spec)
    assert [(r.model, r.seed) for r in runs] == [("cnn", 0), ("cnn", 1), ("mlp", 0), ("mlp", 1)]
    assert {r.study for r in runs} == {"s"}


# A name of the identity as code spells it: a string, an option, a wildcard, a keyword argument
# or an attribute.
_SPELLINGS = r"""(?:["']{0}["']|--{0}\b|\{{+{0}\}}+|\b{0}\s*=(?!=)|\.{0}\b)"""
WINDOW = 8  # lines: a field list written out spans fewer
ALLOWED = 4  # distinct identity names within a window before it counts as a copy


def _copies(text: str) -> list[str]:
    patterns = {name: re.compile(_SPELLINGS.format(re.escape(name))) for name in KEYS}
    lines = text.splitlines()
    found = []
    for start in range(max(1, len(lines) - WINDOW + 1)):
        window = "\n".join(lines[start : start + WINDOW])
        names = [name for name, pattern in patterns.items() if pattern.search(window)]
        if len(names) > ALLOWED:
            found.append(f"line {start + 1}: {', '.join(names)}")
            break
    return found


def _sources() -> list[Path]:
    files = [ROOT / "Snakefile", *sorted((ROOT / "rules").glob("*.smk"))]
    files += sorted((ROOT / "scripts").rglob("*.py")) + sorted((ROOT / "src").rglob("*.py"))
    return [f for f in files if f != ROOT / "src" / "tradeoffs" / "identity.py"]


def test_the_field_list_is_written_in_one_module():
    copies = {
        str(path.relative_to(ROOT)): found
        for path in _sources()
        if (found := _copies(path.read_text(encoding="utf-8")))
    }
    assert not copies, f"the run identity written out again (use tradeoffs.identity): {copies}"


def test_the_copy_finder_finds_a_copy():
    assert _copies('KEYS = ("study", "dataset", "model", "act", "precision", "backend", "seed")')
    written = "\n".join(f"    {name}=row.{name}," for name in KEYS)
    assert _copies(f"RunSpec(\n{written}\n)")
    assert not _copies('CONFIG = ("dataset", "model")\nspec.backend\n')


def _imports(path: Path, package: str) -> set[str]:
    """The tradeoffs modules a module imports, at any depth of its code."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name.split(".")[0] == package}


def _module_graph() -> dict[str, set[str]]:
    src = ROOT / "src"
    modules = {}
    for path in sorted((src / "tradeoffs").rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in modules.items():
        targets = {t for t in _imports(path, "tradeoffs") if t in modules and t != name}
        # Importing a.b.c runs a/__init__ and a/b/__init__ first.
        parents = {".".join(t.split(".")[:i]) for t in targets for i in range(1, t.count(".") + 1)}
        graph[name] = {m for m in targets | parents if m in modules and m != name}
        graph[name] -= {p for p in parents if name.startswith(f"{p}.")}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _package_graph(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph folded onto the library's top-level packages and modules
    (`tradeoffs.engines` stands for every module under it)."""

    def top(name: str) -> str:
        return ".".join(name.split(".")[:2])

    graph: dict[str, set[str]] = {}
    for name, targets in modules.items():
        graph.setdefault(top(name), set()).update(top(t) for t in targets)
    return {name: targets - {name} for name, targets in graph.items()}


def test_the_library_has_no_import_circle():
    cycle = _cycle(_module_graph())
    assert cycle is None, f"import circle: {' -> '.join(cycle)}"


def test_the_library_packages_have_no_import_circle():
    """No package imports one that imports it back, through any of their modules (runtimes
    measuring an engine's model while an engine imports runtimes, say)."""
    cycle = _cycle(_package_graph(_module_graph()))
    assert cycle is None, f"import circle between packages: {' -> '.join(cycle)}"


def test_the_package_graph_folds_modules_onto_their_packages():
    modules = {
        "tradeoffs.a.x": {"tradeoffs.b.y"},
        "tradeoffs.b.y": set(),
        "tradeoffs.b.z": {"tradeoffs.a"},
    }
    assert _package_graph(modules) == {
        "tradeoffs.a": {"tradeoffs.b"},
        "tradeoffs.b": {"tradeoffs.a"},
    }
    assert _cycle(_package_graph(modules)) == ["tradeoffs.a", "tradeoffs.b", "tradeoffs.a"]


def test_the_circle_finder_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_a_new_field_is_one_line(monkeypatch):
    """The identity module with one more field line (issue 23's host) names it everywhere."""
    source = (ROOT / "src" / "tradeoffs" / "identity.py").read_text(encoding="utf-8")
    seed_line = next(line for line in source.splitlines() if line.strip().startswith("seed:"))
    host_line = '    host: str = _part(folder="on-{}", default="local")'
    module = types.ModuleType("identity_with_host")
    monkeypatch.setitem(sys.modules, module.__name__, module)  # dataclasses look it up
    exec(
        compile(source.replace(seed_line, f"{seed_line}\n{host_line}"), "<host>", "exec"),
        vars(module),
    )  # noqa: S102 (the project's own source)
    run = module.RunId("s", "digits", "cnn", "relu", "fp32", "torch-cpu", 0, "box1")
    assert module.KEYS[-1] == "host" and run.keys()["host"] == "box1"
    assert run.folder("res") == "res/s/runs/digits/cnn/relu/fp32/torch-cpu/seed0/on-box1"
    assert module.path_pattern("res").endswith("/seed{seed}/on-{host}")
    assert module.WILDCARD_CONSTRAINTS["host"] == r"[^/]+"
    assert module.RunId.from_path(f"{run.folder('res')}/metrics.json") == run
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    assert module.RunId.of(parser.parse_args(run.args())) == run
    default = parser.parse_args([a for a in run.args() if a not in ("--host", "box1")])
    assert module.RunId.of(default).host == "local"
    (cell,) = module.study_grid(
        "s",
        {key: [getattr(run, name)] for name, key in module.GRID.items()},
    )
    assert cell.host == "local" and cell.seed == 0
