"""Helpers the figure modules share: ordering categories, grouping means over seeds, accuracy
intervals for error bars."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from tradeoffs.analysis.figures import NoDataError
from tradeoffs.analysis.load import config_labels
from tradeoffs.analysis.significance import seed_interval
from tradeoffs.registry import BACKENDS, PRECISION_BITS, PRECISIONS

# Widest format first, then the registry's order.
PRECISION_ORDER = sorted(PRECISIONS, key=lambda p: (-PRECISION_BITS[p], PRECISIONS.index(p)))
ORDER = {"precision": PRECISION_ORDER, "backend": list(BACKENDS)}


def ordered(values: Iterable, key: str | None = None) -> list:
    """Distinct values, in the registry's order for precisions and backends, else sorted."""
    distinct = list(dict.fromkeys(values))
    known = ORDER.get(key or "", [])
    return sorted(distinct, key=lambda v: (known.index(v), "") if v in known else (len(known), v))


def labelled_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Every run with its configuration label (the same label set as the ok runs get)."""
    return runs.assign(label=config_labels(runs))


def labelled_ok_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The ok runs, each with its configuration label; NoDataError when there are none."""
    done = labelled_runs(runs)
    done = done[done["status"] == "ok"]
    if done.empty:
        raise NoDataError("No completed runs.")
    return done


def require(data: pd.DataFrame, columns: Iterable[str], what: str) -> list[str]:
    """The columns of `columns` holding any value; NoDataError naming `what` when none does."""
    present = [c for c in columns if c in data and data[c].notna().any()]
    if not present:
        raise NoDataError(f"No {what} in the records of the completed runs.")
    return present


def test_size(runs: pd.DataFrame) -> pd.Series:
    """Each run's count of test examples (runs.csv's `eval.{dataset}.n`), 0 where unknown."""
    sizes = pd.Series(0, index=runs.index, dtype=int)
    for dataset in runs["dataset"].dropna().unique():
        column = f"eval.{dataset}.n"
        if column in runs:
            mine = runs["dataset"] == dataset
            sizes[mine] = runs.loc[mine, column].fillna(0).astype(int)
    return sizes


def accuracy_intervals(done: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per group of `keys`: mean test accuracy over seeds and its 95% interval (`lo`, `hi`;
    `analysis.significance.seed_interval`), NaN where the test size is unknown."""
    data = done.dropna(subset=["test_acc"]).assign(_n=test_size(done))

    def interval(group: pd.DataFrame) -> pd.Series:
        n = int(group["_n"].max())
        lo, hi = seed_interval(group["test_acc"].to_numpy(), n) if n else (float("nan"),) * 2
        return pd.Series({"mean": group["test_acc"].mean(), "lo": lo, "hi": hi})

    return data.groupby(keys)[["test_acc", "_n"]].apply(interval)


def error_bars(table: pd.DataFrame) -> list:
    """matplotlib's asymmetric yerr [below, above] of an `accuracy_intervals` table."""
    return [
        (table["mean"] - table["lo"]).clip(lower=0).fillna(0).to_numpy(),
        (table["hi"] - table["mean"]).clip(lower=0).fillna(0).to_numpy(),
    ]
