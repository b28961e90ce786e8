"""The metrics.json keys derived from the merged stage records: the energy proxy, the
corruption summary and time-to-accuracy (each defined in docs/architecture.md, "Metrics")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tradeoffs.analysis.energy import energy_proxy
from tradeoffs.analysis.time_to_accuracy import time_to_accuracy
from tradeoffs.records.nulls import measured
from tradeoffs.registry import parse_corrupted

if TYPE_CHECKING:
    from tradeoffs.records.predictions import ExamplePredictions

NO_CORRUPTED = "the study has no eval_on_corrupted sets"


def derived_metrics(
    metrics: Mapping[str, Any],
    evals: Mapping[str, Mapping[str, Any]],
    history: Sequence[Mapping[str, Any]],
    fraction: float,
    corrupted_examples: Mapping[str, ExamplePredictions] | None = None,
) -> dict[str, Any]:
    """The derived keys of one run; a value that cannot be derived is null with its reason.
    `history` is history.csv's rows (`records.validate.read_history`); `corrupted_examples` are
    the per-example predictions of its corrupted sets, if any."""
    derived: dict[str, Any] = measured(
        "energy_proxy", energy_proxy(metrics), "the run records no MACs or parameters"
    )
    corrupted = _corruption_keys(evals, corrupted_examples)
    why = "an evaluation on a corrupted set has no result" if corrupted else NO_CORRUPTED
    keys = ("corruption_acc", "corruption_acc_ci", "corruption_ece", "corruption_ece_ci")
    for key in (*keys, "corruption_sets"):
        derived.update(measured(key, corrupted.get(key), why))
    reached = time_to_accuracy(history, metrics["test_acc"], fraction)
    why = f"no epoch reached {fraction:g} of the final test accuracy"
    derived.update(measured("time_to_acc_s", reached, why))
    derived["time_to_acc_fraction"] = fraction
    return derived


def _corruption_keys(
    evals: Mapping[str, Mapping[str, Any]],
    examples: Mapping[str, ExamplePredictions] | None,
) -> dict[str, Any]:
    if not any(parse_corrupted(name) for name in evals):
        return {}
    # Imported here: robustness needs pandas and scipy, which the metrics job of a run without
    # corrupted sets (most runs) then never loads.
    from tradeoffs.analysis.robustness import corruption_intervals, corruption_summary

    corrupted = corruption_summary(evals)
    if corrupted.get("corruption_acc") is not None and examples:
        corrupted.update(corruption_intervals(examples))
    return corrupted
