"""Pareto frontiers: the runs no other run beats on both accuracy and cost."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tradeoffs.analysis.load import ok_runs
from tradeoffs.analysis.plan import COSTS as COSTS  # the frontiers' costs, read by planning
from tradeoffs.identity import TABLE_KEYS

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
) -> pd.DataFrame:
    """Every ok run with both measurements, `on_frontier` marking the Pareto-optimal ones.

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
    return points.sort_values([*by, cost]).reset_index(drop=True)


FRONTIER_COLUMNS = TABLE_KEYS


def frontier_table(points: pd.DataFrame, cost: str, value: str = "test_acc") -> pd.DataFrame:
    """The frontier members, cheapest first per dataset (with their time-to-accuracy)."""
    extra = [c for c in ("time_to_acc_s",) if c in points]
    columns = [*(c for c in FRONTIER_COLUMNS if c in points), value, cost, *extra]
    return points.loc[points["on_frontier"], columns].reset_index(drop=True)
