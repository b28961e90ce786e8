"""A run's identity: the fields that name one run, written once.

Everything that names a run derives from `RunId`'s fields, in their order: the run folder
(`{results}/{study}/runs/{dataset}/{model}/{act}/{precision}/{backend}/seed{seed}`) and its
Snakemake pattern with `{wildcards}`, the wildcard constraints, the grid a study expands into,
the identity arguments every per-run job takes (written by the rules, parsed by the scripts),
the reading of a run folder path back into an identity, and the key columns of every table
(the fields and `HOST`, the machine a record was made on). Adding a field is one `_part(...)`
line here.
"""

from __future__ import annotations

import argparse
import itertools
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from tradeoffs import registry


def _part(
    folder: str = "{}",
    pattern: str = r"[^/]+",
    kind: type = str,
    grid: str | None = None,
    choices: tuple[str, ...] | None = None,
    default: Any = MISSING,
) -> Any:
    """One identity field: its folder in the run path (`{}` is the value), the regex its value
    matches there, its type, the study list it is drawn from (None: the study's own name, or
    the default), the values the job arguments accept (None: any) and its default (a field
    with one is optional in the job arguments)."""
    meta = {"folder": folder, "pattern": pattern, "kind": kind, "grid": grid, "choices": choices}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class RunId:
    """What a run folder is named after: one cell of a study's grid."""

    study: str = _part()
    dataset: str = _part(grid="datasets")
    model: str = _part(grid="models")
    act: str = _part(grid="activations")
    precision: str = _part(grid="precisions")
    backend: str = _part(grid="backends", choices=tuple(sorted(registry.BACKENDS)))
    seed: int = _part(folder="seed{}", pattern=r"\d+", kind=int, grid="seeds")

    def folder(self, results_dir: str | Path = "results") -> str:
        """The run folder under `results_dir`."""
        return _LAYOUT.format(str(results_dir), **self.__dict__)

    def label(self) -> str:
        """The identity as one string, unique within a results folder (`study/.../seed0`)."""
        return "/".join(f.metadata["folder"].format(getattr(self, f.name)) for f in _FIELDS)

    def keys(self) -> dict[str, Any]:
        """The run's keys as they appear in every record."""
        return {name: getattr(self, name) for name in KEYS}

    def args(self) -> list[str]:
        """The identity arguments of a per-run job (`add_arguments` reads them back)."""
        return [text for f in _FIELDS for text in (_option(f.name), str(getattr(self, f.name)))]

    @classmethod
    def of(cls, values: Mapping[str, Any] | Any) -> RunId:
        """The identity held by a mapping (a record) or by an object's attributes (Snakemake's
        wildcards, parsed arguments, a table row), each value converted to its field's type."""
        if isinstance(values, Mapping):
            return cls(**{f.name: f.metadata["kind"](values[f.name]) for f in _FIELDS})
        return cls(**{f.name: f.metadata["kind"](getattr(values, f.name)) for f in _FIELDS})

    @classmethod
    def from_path(cls, path: str | Path) -> RunId:
        """The identity of a run folder (or a file in it), read from the path's layout."""
        match = _PATH.search(Path(path).as_posix())
        if match is None:
            raise ValueError(f"{path} is not inside a run folder ({path_pattern('<results>')})")
        return cls.of(match.groupdict())


_FIELDS = fields(RunId)
KEYS: tuple[str, ...] = tuple(f.name for f in _FIELDS)  # what names a run folder
# The machine a run was measured on (metrics.json `host`): a key of every record and table, not
# a folder of this machine's runs; another machine's imported runs keep their own layout below
# `{results}/hosts/{host}/` (tradeoffs.hosts).
HOST = "host"
TABLE_KEYS: tuple[str, ...] = (*KEYS, HOST)  # the key columns of every run table
# What a configuration is: runs that differ only in their seed (within a study) repeat one;
# the same configuration on two machines is two.
CONFIG_KEYS: tuple[str, ...] = (*(k for k in KEYS if k not in ("study", "seed")), HOST)
# The fields a study's grid expands over (every one but the study's own name), with their lists.
GRID: dict[str, str] = {f.name: f.metadata["grid"] for f in _FIELDS if f.metadata["grid"]}
WILDCARD_CONSTRAINTS: dict[str, str] = {f.name: f.metadata["pattern"] for f in _FIELDS}


def _layout(results: str, values: Mapping[str, str]) -> str:
    """`{results}/{study}/runs/{the other fields' folders}`: a study's runs beside its tables."""
    study, *rest = (f.metadata["folder"].format(values[f.name]) for f in _FIELDS)
    return "/".join([results, study, "runs", *rest])


# The run folder with `{}` for the results folder and `{field}` for each field's value.
_LAYOUT = _layout("{}", {name: f"{{{name}}}" for name in KEYS})
# A run folder's path read back (folder formats are plain text: no regex syntax in them).
_PATH = re.compile(
    "(?:^|/)"
    + _layout("", {f.name: f"(?P<{f.name}>{f.metadata['pattern']})" for f in _FIELDS})[1:]
    + "(?:/|$)"
)


# A path relative to a results folder that lies inside a run folder (a file or folder in it).
_RELATIVE = re.compile(_layout("", {f.name: f.metadata["pattern"] for f in _FIELDS})[1:] + "(?=/.)")


def run_folder_of(relative: str) -> str | None:
    """The run folder (`{study}/runs/.../seed{n}`) that a path relative to a results folder
    lies in, else None."""
    match = _RELATIVE.match(relative)
    return match.group(0) if match else None


def _option(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def runs_glob(study: str = "*") -> str:
    """Every run folder of `study`, as a glob relative to a results folder."""
    return _LAYOUT.format("", **{**dict.fromkeys(KEYS, "*"), "study": study})[1:]


def path_pattern(results_dir: str) -> str:
    """The run folder as a Snakemake pattern, one `{wildcard}` per field."""
    return _LAYOUT.replace("{}", results_dir, 1)


def study_grid(study: str, spec: Mapping[str, Any]) -> list[RunId]:
    """Every run of one study: the product of its lists, in field order (a field drawn from
    no list keeps its default)."""
    cells = itertools.product(*(spec[key] for key in GRID.values()))
    return [RunId(study=study, **dict(zip(GRID, cell, strict=True))) for cell in cells]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The identity arguments `RunId.args` writes (required unless the field has a default)."""
    for f in _FIELDS:
        optional = {} if f.default is MISSING else {"default": f.default}
        parser.add_argument(
            _option(f.name),
            required=not optional,
            type=f.metadata["kind"],
            choices=f.metadata["choices"],
            **optional,
        )
