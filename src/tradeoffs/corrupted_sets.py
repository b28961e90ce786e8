"""Which corrupted test sets a study evaluates which runs on: names only, no image code, so the
Snakefile plans them in milliseconds (tradeoffs.data.corrupted writes the sets)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from tradeoffs.registry import corrupted_name


def corrupted_grid(study_spec: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(corruption, severity) of every set the study evaluates on, in the config's order."""
    option = study_spec.get("eval_on_corrupted")
    if not option:
        return []
    return list(itertools.product(option["corruptions"], option["severities"]))


def evaluated_on_corrupted(study_spec: Mapping[str, Any], model: str) -> bool:
    """Whether the study's runs of `model` are evaluated on corrupted sets."""
    option = study_spec.get("eval_on_corrupted")
    return bool(option) and (option["models"] is None or model in option["models"])


def corrupted_sets(study_spec: Mapping[str, Any], dataset: str, model: str) -> list[str]:
    """The names of the corrupted sets a run (its dataset, its model) is evaluated on."""
    if not evaluated_on_corrupted(study_spec, model):
        return []
    return [corrupted_name(dataset, c, s) for c, s in corrupted_grid(study_spec)]
