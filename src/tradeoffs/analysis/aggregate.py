"""Tables of a study: every run (skipped and failed ones listed with their reason) and each
configuration's mean and standard deviation over seeds."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from tradeoffs.analysis.load import (
    CONFIG_KEYS,
    HOST,
    IDENTITY,
    config_labels,
    finished_note,
    metric_columns,
    ok_runs,
)

# The measurements the Markdown tables show (the CSVs hold every one).
KEY_METRICS = (
    "test_acc",
    "ood_acc",
    "corruption_acc",
    "mce",
    "relative_mce",
    "latency_ms_p50",
    "infer_throughput_sps",
    "est_footprint_mb",
    "size_mem_mb",
    "train_time_s",
    "time_to_acc_s",
    "energy_proxy",
)
GROUP_KEYS = ("study", *CONFIG_KEYS)


def summary_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: run counts by status, then `{metric}_mean` and `{metric}_std`
    over the ok runs' seeds (sample std, empty with one seed). Configurations without an ok run
    stay, with empty means and their reasons."""
    keys = [k for k in GROUP_KEYS if k in runs]
    metrics = [m for m in metric_columns(runs) if m != "seed"]
    groups = runs.groupby(keys, sort=True, dropna=False)
    counts = groups["status"].agg(
        n_runs="size",
        n_ok=lambda s: int((s == "ok").sum()),
        n_failed=lambda s: int((s == "failed").sum()),
        n_skipped=lambda s: int((s == "skipped").sum()),
    )
    if "did_not_learn" in runs:
        counts = counts.join(groups["did_not_learn"].agg(n_did_not_learn="sum").astype(int))
    reasons = groups["reason"].agg(lambda s: "; ".join(dict.fromkeys(s.dropna().astype(str))))
    stats = ok_runs(runs).groupby(keys, sort=True, dropna=False)[metrics].agg(["mean", "std"])
    stats.columns = [f"{metric}_{stat}" for metric, stat in stats.columns]
    table = counts.join(reasons.rename("reasons")).join(stats)
    return table.reset_index()


def _mean_std(summary: pd.DataFrame, metric: str, digits: int) -> pd.Series:
    mean, std = summary[f"{metric}_mean"], summary[f"{metric}_std"]
    text = mean.map(lambda v: "" if pd.isna(v) else f"{v:.{digits}g}")
    spread = std.map(lambda v: "" if pd.isna(v) else f" ± {v:.2g}")
    return text + spread


def compact_summary(summary: pd.DataFrame, metrics: Sequence[str] = KEY_METRICS) -> pd.DataFrame:
    """The summary for reading: identity, counts and `mean ± std` of the key metrics present."""
    keys = [k for k in GROUP_KEYS if k in summary]
    counts = [c for c in ("n_ok", "n_did_not_learn", "n_runs") if c in summary]
    table = summary[[*keys, *counts]].copy()
    for metric in metrics:
        if f"{metric}_mean" in summary and summary[f"{metric}_mean"].notna().any():
            table[metric] = _mean_std(summary, metric, 4)
    table["reasons"] = summary["reasons"]
    return table


def compact_runs(runs: pd.DataFrame, metrics: Sequence[str] = KEY_METRICS) -> pd.DataFrame:
    """Every run with its status (`did not learn` for an ok run at most 1.5x chance, see
    `analysis.findings`), reason and key metrics."""
    present = [m for m in metrics if m in runs and runs[m].notna().any()]
    keys = [k for k in (*IDENTITY, HOST) if k in runs]
    table = runs[[*keys, "status", "reason", *present]].copy()
    if "did_not_learn" in runs:
        table["status"] = table["status"].where(~runs["did_not_learn"], "did not learn")
    return table


COMPARISON_COLUMNS = {
    "test_acc_mean": "Test accuracy (%)",
    "corruption_acc_mean": "Mean corruption accuracy (%)",
    "params_mean": "Parameters",
    "size_mem_mb_mean": "Model size (MB)",
    "latency_ms_p50_mean": "Inference time (ms, p50)",
    "infer_throughput_sps_mean": "Throughput (samples/s)",
    "time_to_acc_s_mean": "Time to accuracy (s)",
}


def comparison_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Seed 001's model comparison: accuracy, parameters, size, latency, throughput, best first."""
    done = summary[summary["n_ok"] > 0]
    table = pd.DataFrame({"Model": config_labels(done)})
    for column, title in COMPARISON_COLUMNS.items():
        if column in done and done[column].notna().any():
            table[title] = done[column]
    for title in ("Test accuracy (%)", "Mean corruption accuracy (%)"):
        if title in table:
            table[title] = 100 * table[title]
    if "Time to accuracy (s)" in table and "time_to_acc_fraction_mean" in done:
        fraction = done["time_to_acc_fraction_mean"].dropna().unique()
        if len(fraction) == 1:
            title = f"Time to {100 * fraction[0]:g}% of final accuracy (s)"
            table = table.rename(columns={"Time to accuracy (s)": title})
    if "Test accuracy (%)" in table:
        table = table.sort_values("Test accuracy (%)", ascending=False)
    return table.reset_index(drop=True)


def to_markdown(table: pd.DataFrame, runs: pd.DataFrame | None = None) -> str:
    """`table` as Markdown; an empty table says why (from `runs`, when given)."""
    if table.empty:
        return f"_{finished_note(runs) if runs is not None else 'No runs.'}_\n"
    shown = table.astype(object).where(table.notna(), None)  # a missing value is blank, not nan
    return shown.to_markdown(index=False, floatfmt=".4g", missingval="") + "\n"
