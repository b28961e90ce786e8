"""The study option `accuracy_target` (docs/architecture.md, "Accuracy target"): each run's
accuracy ratio to its reference run and the one-sided 95% lower bound of that ratio
(`significance.ratio_bound`, paired over the test examples of their predictions files), and
whether the bound clears the target.

The reference is the one the findings use: the fp32 run of the run's own model (the binary
study: of its full-precision CNN) with the same dataset, activation, backend, seed and host.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradeoffs.analysis import significance
from tradeoffs.analysis.findings import REFERENCE_MODEL, REFERENCE_PRECISION
from tradeoffs.records.predictions import read_run

COLUMNS = ("acc_ratio", "acc_ratio_lo", "meets_target")
MATCH = ("dataset", "act", "backend", "seed", "host")
REFERENCE_MODELS = {"binary": REFERENCE_MODEL}  # studies whose reference is another model


def reference_model(study: str, model: str) -> str:
    return REFERENCE_MODELS.get(study, model)


def with_accuracy_target(runs: pd.DataFrame, study: str, target: float | None) -> pd.DataFrame:
    """`runs` with `acc_ratio`, `acc_ratio_lo` and `meets_target` (None: off, runs unchanged).
    A reference run meets the target by definition (ratio left empty); a run without an ok
    reference or a predictions file is left untested (`meets_target` empty)."""
    if target is None:
        return runs
    runs = runs.copy()
    ratio = pd.Series(np.nan, index=runs.index)
    lower = pd.Series(np.nan, index=runs.index)
    meets = pd.Series(None, index=runs.index, dtype=object)
    keys = [k for k in MATCH if k in runs]
    for i, row in runs.iterrows():
        if row.get("status") != "ok":
            continue
        model = reference_model(study, row["model"])
        if row["model"] == model and row.get("precision") == REFERENCE_PRECISION:
            meets[i] = True
            continue
        bound = _bound(runs, row, model, keys)
        if bound is not None:
            ratio[i], lower[i], meets[i] = bound.ratio, bound.lower, bound.meets(target)
    runs["acc_ratio"], runs["acc_ratio_lo"], runs["meets_target"] = ratio, lower, meets
    return runs


def _bound(
    runs: pd.DataFrame, row: pd.Series, model: str, keys: list[str]
) -> significance.RatioBound | None:
    """The ratio bound of `row` to its reference, None when either side cannot be read."""
    same = (runs["model"] == model) & (runs["precision"] == REFERENCE_PRECISION)
    same &= runs["status"] == "ok"
    for key in keys:
        same &= (runs[key] == row[key]) | (runs[key].isna() & pd.isna(row[key]))
    if not same.any() or not isinstance(row.get("path"), str):
        return None
    reference = runs[same].iloc[0]
    if not isinstance(reference.get("path"), str):
        return None
    run_preds = read_run(row["path"], row["dataset"])
    ref_preds = read_run(reference["path"], reference["dataset"])
    if run_preds is None or ref_preds is None:
        return None
    try:
        return significance.ratio_bound(run_preds, ref_preds)
    except ValueError:  # unpaired test sets, or a reference that got nothing right
        return None
