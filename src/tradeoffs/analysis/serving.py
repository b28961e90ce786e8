"""Tables of serving under load: one row per run and runtime (serving/{runtime}.json) and one
row per load level (the bisection's Poisson rates and the multi-stream client counts), and
`server_qps` joined onto the runs table for the summary's frontier and picks. A serving record
that breaks its schema is an `invalid` row (`tradeoffs.records.validate`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tradeoffs import runtimes
from tradeoffs.analysis.load import HOST, IDENTITY, identity_from_path
from tradeoffs.analysis.runtimes import RUN_KEYS, _frame, _scalars
from tradeoffs.hosts import host_of_path
from tradeoffs.records.validate import INVALID, InvalidRecordError, read_json_record, stage_schema

# The columns the Markdown table shows (the CSV holds every scalar key of the records).
KEY_COLUMNS = (
    *RUN_KEYS,
    "status",
    "server_qps",
    "p99_bound_ms",
    "server_latency_ms_p50",
    "server_latency_ms_p99",
    "server_queue_share",
    "server_batch_mean",
    "capacity_qps",
    "max_batch",
    "overhead_p99_ms",
    "server_qps_reason",
    "reason",
)
RUN_COLUMNS = ("server_qps", "p99_bound_ms")  # what the runs table gains (eager's record)


def read_serving(paths: Sequence[str | Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(serving, levels): one row per serving/{runtime}.json, and one per load level with
    `mode` "poisson" (offered_qps set) or "clients" (clients set)."""
    rows, levels = [], []
    for path in paths:
        try:
            record = read_json_record(path, stage_schema("serving"))
        except InvalidRecordError as error:  # the run's folder says who it is, not the record
            identity = {**identity_from_path(Path(path).parent.parent), "runtime": Path(path).stem}
            identity[HOST] = host_of_path(path)
            rows.append({**identity, "status": INVALID, "reason": f"{error}; remake it"})
            continue
        identity = {key: record.get(key) for key in RUN_KEYS}
        rows.append({**identity, **_scalars(record)})
        for mode, key in (("poisson", "points"), ("clients", "multistream")):
            levels += [
                {**identity, "mode": mode, **_scalars(level)} for level in record.get(key) or []
            ]
    return _frame(rows), _frame(levels)


def key_table(serving: pd.DataFrame) -> pd.DataFrame:
    return serving[[c for c in KEY_COLUMNS if c in serving]]


def with_server_qps(runs: pd.DataFrame, serving: pd.DataFrame) -> pd.DataFrame:
    """`runs` with each run's `server_qps` and its bound under its own (eager) runtime; runs
    that were not served get NaN."""
    if serving.empty or "server_qps" not in serving:
        return runs.assign(**{c: float("nan") for c in RUN_COLUMNS})
    eager = serving[serving["runtime"] == runtimes.DEFAULT]
    keys = list(IDENTITY) + [HOST] * (HOST in runs and HOST in serving)  # one machine's runs
    served = eager[[*keys, *RUN_COLUMNS]].drop_duplicates(keys)
    for key in keys:  # csv round trips may read a seed or a name with another dtype
        served[key] = served[key].astype(runs[key].dtype) if key in runs else served[key]
    return runs.drop(columns=[c for c in RUN_COLUMNS if c in runs]).merge(
        served, on=keys, how="left"
    )


def serving_finding(serving: pd.DataFrame) -> str | None:
    """One sentence: the run and runtime that sustain the most requests/s within the bound."""
    if serving.empty or "server_qps" not in serving:
        return None
    served = serving.dropna(subset=["server_qps"])
    if served.empty:
        return "No served run met its p99 bound at any tested request rate."
    best: Any = served.loc[served["server_qps"].idxmax()]
    low, high = best.get("server_latency_ms_p99_ci_low"), best.get("server_latency_ms_p99_ci_high")
    p99 = best.get("server_latency_ms_p99")
    measured = (
        f"p99 {p99:.3g} ms [95% bootstrap interval {low:.3g}, {high:.3g}]"
        if pd.notna(p99) and pd.notna(low) and pd.notna(high)
        else "p99 (no interval recorded)"
    )
    return (
        f"Under Poisson load, {best['model']} ({best['precision']}, {best['backend']}, "
        f"{best['runtime']}) sustains the most requests: {best['server_qps']:.0f} req/s with "
        f"{measured} ≤ {best['p99_bound_ms']:g} ms ({len(served)} of {len(serving)} served "
        "records met the bound)."
    )
