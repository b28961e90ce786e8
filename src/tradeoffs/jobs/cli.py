"""The command line of every per-run job: the run's identity arguments and the job's own
options parsed, then one job function called with the run and those options; a `JobError`
exits with its message and a full disk with `io.full_disk_exits`'s, never a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradeoffs import io
from tradeoffs.jobs import JobError
from tradeoffs.runspec import add_run_arguments, spec_from_args


@dataclass(frozen=True)
class Option:
    """One argparse argument of a job; its `dest` names the job function's keyword."""

    flags: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)


def option(*flags: str, **settings: Any) -> Option:
    """An argument as `ArgumentParser.add_argument(*flags, **settings)` takes it."""
    return Option(flags, settings)


# The options of a job that measures one deployment runtime (benchmark, serving).
RUNTIME_OPTIONS = (
    option("--runtime", required=True),
    option("--output", type=Path, required=True),
)


def run(description: str, job: Callable[..., None], *options: Option) -> None:
    """Parse the run and `options` from the command line, then `job(spec, **options)`."""
    with io.full_disk_exits():
        parser = argparse.ArgumentParser(description=description)
        add_run_arguments(parser)
        taken = {action.dest for action in parser._actions}  # the run's own arguments
        names = [parser.add_argument(*o.flags, **o.settings).dest for o in options]
        clash = taken.intersection(names)
        assert not clash, f"job options {sorted(clash)} would overwrite the run's own arguments"
        args = parser.parse_args()
        spec = spec_from_args(args)
        try:
            job(spec, **{name: getattr(args, name) for name in names})
        except JobError as error:
            sys.exit(str(error))
