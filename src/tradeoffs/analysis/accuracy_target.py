"""The study option `accuracy_target` (docs/architecture.md, "Accuracy target"): each run's
accuracy ratio to its reference run and the one-sided 95% lower bound of that ratio
(`significance.ratio_bound`, paired over the test examples of their predictions files), and
whether the bound clears the target.

The reference is the one the findings use: the fp32 run of the run's own model (the binary
study: of its full-precision CNN) with the same dataset, activation, backend, seed and host.
A deployment runtime's reference is its own run's eager model (`with_runtime_target`, on the
runtime checks' predictions files, bench/{runtime}_predictions.npz).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tradeoffs.analysis import significance
from tradeoffs.analysis.findings import REFERENCE_MODEL, REFERENCE_PRECISION, target_verdicts
from tradeoffs.analysis.load import HOST
from tradeoffs.analysis.runtimes import RUN
from tradeoffs.records.predictions import read, read_run

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


EAGER = "eager"


def with_runtime_target(runtimes: pd.DataFrame, target: float | None) -> pd.DataFrame:
    """A runtimes table (`analysis.runtimes.read_bench`) with `acc_ratio`, `acc_ratio_lo` and
    `meets_target` of every runtime against the same run's eager runtime, paired over the
    check's test examples (None: off, table unchanged). Eager meets it by definition (ratio
    empty); a runtime without an ok eager record or a predictions file is left untested."""
    if target is None or runtimes.empty or "predictions_path" not in runtimes:
        return runtimes
    runtimes = runtimes.copy()
    ratio = pd.Series(np.nan, index=runtimes.index)
    lower = pd.Series(np.nan, index=runtimes.index)
    meets = pd.Series(None, index=runtimes.index, dtype=object)
    run_keys = [k for k in RUN if k in runtimes]
    ok = runtimes[runtimes["status"] == "ok"]
    eager = {
        tuple(row[k] for k in run_keys): row["predictions_path"]
        for _, row in ok[ok["runtime"] == EAGER].iterrows()
    }
    for i, row in ok.iterrows():
        if row["runtime"] == EAGER:
            meets[i] = True
            continue
        bound = _paired_bound(row["predictions_path"], eager.get(tuple(row[k] for k in run_keys)))
        if bound is not None:
            ratio[i], lower[i], meets[i] = bound.ratio, bound.lower, bound.meets(target)
    runtimes["acc_ratio"], runtimes["acc_ratio_lo"], runtimes["meets_target"] = ratio, lower, meets
    return runtimes


def _paired_bound(run: object, reference: object) -> significance.RatioBound | None:
    """The ratio bound of two predictions files, None when either is missing or unpaired."""
    if not (isinstance(run, str) and isinstance(reference, str)):
        return None
    if not (Path(run).exists() and Path(reference).exists()):
        return None
    try:
        return significance.ratio_bound(read(Path(run)), read(Path(reference)))
    except ValueError:  # unpaired test sets, or a reference that got nothing right
        return None


def runtime_target_sentence(runtimes: pd.DataFrame, target: float | None) -> str | None:
    """Which runtimes meet the accuracy target against their eager model, with their bounds."""
    if target is None or "acc_ratio" not in runtimes:
        return None
    tested = runtimes[runtimes["acc_ratio"].notna()]
    if tested.empty:
        return None
    keys = [k for k in ("model", "precision", "backend", "seed", HOST) if runtimes[k].nunique() > 1]
    return (
        f"Accuracy target {target:g} of the eager model's accuracy, per deployment runtime "
        f"(ratio, one-sided 95% lower bound paired over the check's examples): "
        f"{target_verdicts(tested, [*keys, 'runtime'])}."
    )
