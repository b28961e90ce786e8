"""Pareto frontiers: the runs no other run beats on both accuracy and cost, and the runs
statistically tied with a frontier point (`tied_with`: accuracy indistinguishable by the exact
McNemar test on their predictions files from a frontier point of no greater cost)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tradeoffs.analysis import significance
from tradeoffs.analysis.load import ok_runs
from tradeoffs.analysis.plan import COSTS as COSTS  # the frontiers' costs, read by planning
from tradeoffs.identity import TABLE_KEYS
from tradeoffs.records.predictions import ExamplePredictions, read_run

HIGHER_IS_BETTER = frozenset({"server_qps"})  # of the COSTS' columns


def pareto_mask(cost: np.ndarray, value: np.ndarray) -> np.ndarray:
    """True for points that no other point dominates (cost <= and value >=, one strictly)."""
    cost, value = np.asarray(cost, float), np.asarray(value, float)
    # [i, j]: point j against point i.
    no_worse = np.greater_equal.outer(cost, cost) & np.less_equal.outer(value, value)
    better = np.greater.outer(cost, cost) | np.less.outer(value, value)
    return ~(no_worse & better).any(axis=1)


def with_model_size(runs: pd.DataFrame) -> pd.DataFrame:
    size = pd.Series(runs.get("est_footprint_mb", np.nan), index=runs.index, dtype=float)
    fallback = pd.Series(runs.get("size_mem_mb", np.nan), index=runs.index, dtype=float)
    return runs.assign(model_size_mb=size.fillna(fallback))


def frontier_points(
    runs: pd.DataFrame,
    cost: str,
    value: str = "test_acc",
    by: Sequence[str] = ("dataset",),
    ties: bool = False,
) -> pd.DataFrame:
    """Every ok run with both measurements, `on_frontier` marking the Pareto-optimal ones;
    with `ties` (one row per trained run, `value` its clean test accuracy), `tied_with` names
    the frontier point each other run is tied with (`tied_points`).

    Frontiers are taken per `by` group: accuracies on different datasets do not compare.
    """
    runs = with_model_size(ok_runs(runs))
    if cost not in runs:  # e.g. server_qps where no study serves
        return runs.iloc[:0].assign(**{cost: pd.Series(dtype=float), "on_frontier": False})
    points = runs.dropna(subset=[cost, value]).reset_index(drop=True)
    points["on_frontier"] = False
    for _, group in points.groupby(list(by), sort=False):
        costs = group[cost].to_numpy(dtype=float)
        mask = pareto_mask(-costs if cost in HIGHER_IS_BETTER else costs, group[value].to_numpy())
        points.loc[group.index, "on_frontier"] = mask
    if ties:
        points["tied_with"] = tied_points(points, cost, by)
    return points.sort_values([*by, cost]).reset_index(drop=True)


def point_label(row: pd.Series) -> str:
    """A run's name in the frontier tables: its key columns joined by '/'."""
    return "/".join(str(row[k]) for k in FRONTIER_COLUMNS if k in row and pd.notna(row[k]))


def tied_points(points: pd.DataFrame, cost: str, by: Sequence[str]) -> pd.Series:
    """Per point off the frontier, the nearest-in-cost frontier point of its `by` group with no
    greater cost whose test accuracy the exact McNemar test on their predictions files cannot
    tell apart from the point's (p ≥ 0.05, uncorrected: a tie is a failure to reject); None
    where there is none or a predictions file is missing."""
    tied = pd.Series(None, index=points.index, dtype=object)
    if "path" not in points or "dataset" not in points:
        return tied
    cache: dict[tuple[str, str], ExamplePredictions | None] = {}

    def predictions(row: pd.Series) -> ExamplePredictions | None:
        if not isinstance(row["path"], str):
            return None
        key = (row["path"], row["dataset"])
        if key not in cache:
            cache[key] = read_run(*key)
        return cache[key]

    sign = -1.0 if cost in HIGHER_IS_BETTER else 1.0
    for _, group in points.groupby(list(by), sort=False):
        front = group[group["on_frontier"]]
        front = front.iloc[np.argsort(-sign * front[cost].to_numpy(float), kind="stable")]
        frontier = [best for _, best in front.iterrows()]  # once: a row of strings costs ms
        for i, row in group[~group["on_frontier"]].iterrows():
            mine = predictions(row)
            if mine is None:
                continue
            for best in frontier:
                if sign * best[cost] > sign * row[cost]:
                    continue
                theirs = predictions(best)
                try:
                    p = None if theirs is None else significance.mcnemar_runs(mine, theirs)
                except significance.NotPairedError:
                    p = None
                if p is not None and p >= significance.ALPHA:
                    tied[i] = point_label(best)
                    break
    return tied


FRONTIER_COLUMNS = TABLE_KEYS


def frontier_table(points: pd.DataFrame, cost: str, value: str = "test_acc") -> pd.DataFrame:
    """The frontier members, cheapest first per dataset (with their time-to-accuracy), and,
    where `frontier_points` looked for ties, the runs tied with a member (`tied_with`)."""
    extra = [c for c in ("time_to_acc_s", "tied_with") if c in points]
    columns = [*(c for c in FRONTIER_COLUMNS if c in points), value, cost, *extra]
    shown = points["on_frontier"]
    if "tied_with" in points:
        shown = shown | points["tied_with"].notna()
    return points.loc[shown, columns].reset_index(drop=True)
