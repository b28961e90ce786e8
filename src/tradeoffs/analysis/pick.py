"""Pick a model to deploy: the runs that fit a budget, best first, and why the others do not.

One function answers for the dashboard's "Pick a model" panel and for the report's table of
preset budgets, so both rank the same way: highest test accuracy first, then lowest latency,
then smallest footprint; when the two most accurate are indistinguishable by the paired test
on their predictions files, the tie is named and broken on latency, then footprint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tradeoffs.analysis import significance
from tradeoffs.analysis.frontier import FRONTIER_COLUMNS, with_model_size
from tradeoffs.identity import KEYS
from tradeoffs.intervals import as_interval
from tradeoffs.records.predictions import read_run

ACCURACY = "test_acc"
PERCENTILES = ("p50", "p95")


@dataclass(frozen=True)
class Budget:
    """Constraints on a run; None leaves a constraint out.

    `max_footprint_mb` bounds the model at its precision (the estimated footprint where the
    engine has one, else the in-memory size: the size frontier's column); `max_disk_mb` bounds the
    saved model file.
    """

    max_latency_ms: float | None = None
    percentile: str = "p50"
    max_footprint_mb: float | None = None
    max_disk_mb: float | None = None
    min_accuracy: float | None = None
    meets_target: bool = False  # only runs that meet their study's accuracy_target
    min_server_qps: float | None = None  # requests/s sustained within the serving p99 bound
    server_p99_ms: float | None = None  # ... a bound no looser than this (None: the study's)
    backends: tuple[str, ...] | None = None
    datasets: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.percentile not in PERCENTILES:
            raise ValueError(
                f"latency percentile {self.percentile!r} is not one of {', '.join(PERCENTILES)}"
            )

    @property
    def latency_column(self) -> str:
        return f"latency_ms_{self.percentile}"

    def describe(self) -> str:
        """The budget in words, for table rows and captions."""
        parts = []
        if self.max_latency_ms is not None:
            parts.append(f"latency {self.percentile} ≤ {self.max_latency_ms:g} ms")
        if self.max_footprint_mb is not None:
            parts.append(f"footprint ≤ {self.max_footprint_mb:g} MB")
        if self.max_disk_mb is not None:
            parts.append(f"file ≤ {self.max_disk_mb:g} MB")
        if self.min_accuracy is not None:
            parts.append(f"accuracy ≥ {self.min_accuracy:g}")
        if self.meets_target:
            parts.append("meets the accuracy target")
        if self.min_server_qps is not None:
            bound = "its" if self.server_p99_ms is None else f"{self.server_p99_ms:g} ms"
            parts.append(f"serves ≥ {self.min_server_qps:g} req/s at p99 ≤ {bound}")
        if self.backends:
            parts.append(f"backend in {', '.join(self.backends)}")
        if self.datasets:
            parts.append(f"dataset in {', '.join(self.datasets)}")
        return "; ".join(parts) or "no constraint"


# The report's preset budgets: a latency-bound service, a memory-bound device, both, and none.
PRESETS: Mapping[str, Budget] = {
    "best accuracy": Budget(),
    "real time (p95 ≤ 1 ms)": Budget(max_latency_ms=1.0, percentile="p95"),
    "small (footprint ≤ 1 MB)": Budget(max_footprint_mb=1.0),
    "edge (p95 ≤ 1 ms, footprint ≤ 0.25 MB)": Budget(
        max_latency_ms=1.0, percentile="p95", max_footprint_mb=0.25
    ),
    "service (≥ 500 req/s at p99 ≤ 20 ms)": Budget(min_server_qps=500.0, server_p99_ms=20.0),
}


@dataclass(frozen=True)
class Pick:
    ranked: pd.DataFrame  # runs that fit, best first, with `rank`
    excluded: pd.DataFrame  # the other runs, with `why`
    tie: str | None = None  # the best two are indistinguishable on accuracy: how it was broken


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _bound(
    runs: pd.DataFrame, column: str, limit: float | None, name: str, unit: str, upper: bool = True
) -> list[str | None]:
    """Per row, why `column` breaks the bound `limit` (None when it does not or when there is
    no bound); a missing measurement breaks any bound."""
    if limit is None:
        return [None] * len(runs)
    values = pd.to_numeric(runs.get(column, pd.Series(np.nan, index=runs.index)), errors="coerce")
    sign = ">" if upper else "<"

    def why(value: float) -> str | None:
        if pd.isna(value):
            return f"{name} not measured"
        if value > limit if upper else value < limit:
            return f"{name} {_fmt(value)}{unit} {sign} {_fmt(limit)}{unit}"
        return None

    return [why(v) for v in values]


def _target(runs: pd.DataFrame) -> list[str | None]:
    """Per row, why the run does not meet its study's accuracy_target (`analysis.accuracy_target`;
    its `meets_target` column, empty where the study sets no target or the run was not tested)."""
    meets = runs.get("meets_target", pd.Series(None, index=runs.index, dtype=object))
    lower = runs.get("acc_ratio_lo", pd.Series(np.nan, index=runs.index))

    def why(value: Any, bound: float) -> str | None:
        if pd.isna(value):
            return "accuracy target not tested"
        if value in (True, "True"):  # a bool, or its text in a runs.csv read back
            return None
        return f"below the accuracy target (ratio bound {_fmt(bound)})"

    return [why(v, b) for v, b in zip(meets, lower, strict=True)]


def _reasons(runs: pd.DataFrame, budget: Budget) -> pd.Series:
    """Every broken constraint of each run, joined by '; ' (empty when the run fits)."""
    status = runs.get("status", pd.Series("ok", index=runs.index)).fillna("ok")
    reason = runs.get("reason", pd.Series(None, index=runs.index))
    latency = f"latency {budget.percentile}"
    checks: list[list[str | None]] = [
        [
            None if s == "ok" else f"{s}: {r}" if isinstance(r, str) else s
            for s, r in zip(status, reason, strict=True)
        ],
        _bound(runs, budget.latency_column, budget.max_latency_ms, latency, " ms"),
        _bound(runs, "model_size_mb", budget.max_footprint_mb, "footprint", " MB"),
        _bound(runs, "size_disk_mb", budget.max_disk_mb, "file size", " MB"),
        _bound(runs, ACCURACY, budget.min_accuracy, "accuracy", "", upper=False),
        _bound(runs, "server_qps", budget.min_server_qps, "server_qps", " req/s", upper=False),
        _bound(runs, "p99_bound_ms", budget.server_p99_ms, "serving p99 bound", " ms"),
    ]
    if budget.meets_target:
        checks.append(_target(runs))
    for key, allowed in (("backend", budget.backends), ("dataset", budget.datasets)):
        if allowed:
            checks.append([None if v in allowed else f"{key} {v} not selected" for v in runs[key]])
    return pd.Series(
        ["; ".join(r for r in row if r) for row in zip(*checks, strict=True)],
        index=runs.index,
        dtype=object,
    )


def pick(runs: pd.DataFrame, budget: Budget) -> Pick:
    """Split `runs` (rows of metrics.json, as runs.csv) into those that satisfy `budget`,
    ranked best first, and the rest with every constraint each one breaks."""
    runs = with_model_size(runs.reset_index(drop=True))
    why = _reasons(runs, budget) if len(runs) else pd.Series(dtype=object)
    fits = runs[why == ""]
    ranked = fits.sort_values(
        [ACCURACY, budget.latency_column, "model_size_mb"],
        ascending=[False, True, True],
        na_position="last",
        kind="stable",
    ).reset_index(drop=True)
    ranked, tie = break_tie(ranked, budget)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    excluded = runs[why != ""].assign(why=why[why != ""]).reset_index(drop=True)
    return Pick(ranked=ranked, excluded=excluded, tie=tie)


def _name(row: pd.Series) -> str:
    if isinstance(row.get("run"), str):
        return row["run"]
    keys = [k for k in KEYS if k not in ("dataset", "act")]  # the short name picks show
    return "/".join(str(row[k]) for k in keys if k in row)


def break_tie(ranked: pd.DataFrame, budget: Budget) -> tuple[pd.DataFrame, str | None]:
    """When the two most accurate runs (of the best run's dataset and machine) are
    indistinguishable on accuracy by the paired test on their predictions files
    (`analysis.significance`), order them on the constraint metrics (latency, then footprint)
    and say so, naming both."""
    if len(ranked) < 2 or "path" not in ranked:
        return ranked, None
    keys = [k for k in ("dataset", "host") if k in ranked]
    same = ranked.index[_matches(ranked, {k: ranked.iloc[0][k] for k in keys})]
    if len(same) < 2:
        return ranked, None
    first, second = ranked.loc[same[0]], ranked.loc[same[1]]
    preds = [
        read_run(row["path"], row["dataset"]) if isinstance(row["path"], str) else None
        for row in (first, second)
    ]
    if None in preds:
        return ranked, None
    try:
        comparison = significance.compare_runs(*preds)
    except significance.NotPairedError:
        return ranked, None
    if comparison.distinguishable:
        return ranked, None
    cost = [budget.latency_column, "model_size_mb"]
    swap = tuple(second[c] for c in cost) < tuple(first[c] for c in cost)
    winner, other = (second, first) if swap else (first, second)
    if swap:
        order = list(ranked.index)
        i, j = order.index(same[0]), order.index(same[1])
        order[i], order[j] = order[j], order[i]
        ranked = ranked.loc[order].reset_index(drop=True)
    note = (
        f"tie: {_name(first)} and {_name(second)} are indistinguishable on accuracy "
        f"({significance.describe(comparison)}); broken on {budget.percentile} latency "
        f"[95% bootstrap interval], then footprint: {_name(winner)} "
        f"({_latency(winner, cost[0])}, {_fmt(winner[cost[1]])} MB) before {_name(other)} "
        f"({_latency(other, cost[0])}, {_fmt(other[cost[1]])} MB){_overlap(winner, other, cost[0])}"
    )
    return ranked, note


def _latency(row: pd.Series, column: str) -> str:
    """ "1.2 ms [1.1, 1.3]": the latency and its bootstrap interval (`{column}_ci`)."""
    interval = as_interval(row.get(f"{column}_ci"))
    value = f"{_fmt(row[column])} ms"
    if interval is None:
        return f"{value} (no interval recorded)"
    return f"{value} [{_fmt(interval[0])}, {_fmt(interval[1])}]"


def _overlap(a: pd.Series, b: pd.Series, column: str) -> str:
    """Whether the latency that broke a tie is itself beyond the timing noise."""
    ia, ib = as_interval(a.get(f"{column}_ci")), as_interval(b.get(f"{column}_ci"))
    if ia is None or ib is None:
        return ""
    if ia[0] <= ib[1] and ib[0] <= ia[1]:
        return "; their latency intervals overlap too: that order is within the timing noise"
    return ""


def preset_table(runs: pd.DataFrame, presets: Mapping[str, Budget] = PRESETS) -> pd.DataFrame:
    """Per preset budget and dataset, the best run that fits it and how many runs fit (the
    report's "which model to deploy" table). A budget no run fits gets a row saying so."""
    rows = []
    shown = (ACCURACY, "latency_ms_p50", "latency_ms_p95", "model_size_mb")
    # Per machine too: a latency budget is met on one device, not on every device at once.
    keys = [k for k in ("dataset", "host") if k in runs]
    groups = runs[keys].dropna().drop_duplicates().sort_values(keys).to_dict("records")
    for name, budget in presets.items():
        result = pick(runs, budget)
        for group in groups:
            fits = result.ranked[_matches(result.ranked, group)].reset_index(drop=True)
            fits, tie = break_tie(fits, budget)
            row = {"budget": name, "constraints": budget.describe(), **group}
            if len(fits):
                best = fits.iloc[0]
                row.update({c: best.get(c) for c in (*FRONTIER_COLUMNS, *shown) if c not in group})
            row["tie"] = tie
            row["runs_fitting"] = len(fits)
            row["runs_excluded"] = int(_matches(result.excluded, group).sum())
            rows.append(row)
    return pd.DataFrame(rows)


def _matches(runs: pd.DataFrame, values: Mapping[str, Any]) -> pd.Series:
    mask = pd.Series(True, index=runs.index)
    for key, value in values.items():
        mask &= runs[key] == value
    return mask
