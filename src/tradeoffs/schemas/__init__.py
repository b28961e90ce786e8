"""The config and metrics schemas, shipped inside the package so an installed `tradeoffs` finds
them without a checkout (read through importlib.resources)."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

CONFIG = "config.schema.yaml"
METRICS = "metrics.schema.json"
HISTORY = "history.schema.json"


def text(name: str) -> str:
    """The schema file `name` (CONFIG, METRICS or HISTORY) as text."""
    return files(__name__).joinpath(name).read_text()


@cache
def config_schema() -> dict[str, Any]:
    # libyaml's parser (PyYAML's C loader, the same safe constructor) reads it 8x faster: the
    # schema is read at the start of every Snakemake run.
    return yaml.load(text(CONFIG), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def format_defaults(fmt: str) -> dict[str, Any]:
    """The options dataset format `fmt` uses when a dataset's config entry leaves them out."""
    return copy.deepcopy(config_schema()["$defs"]["dataset"]["x-format-defaults"].get(fmt, {}))


@cache
def metrics_schema() -> dict[str, Any]:
    return json.loads(text(METRICS))


@cache
def history_schema() -> dict[str, Any]:
    return json.loads(text(HISTORY))
