"""Helpers the figure modules share: ordering categories, grouping means over seeds."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from tradeoffs.analysis.figures import NoDataError
from tradeoffs.analysis.load import config_labels
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
