"""Tables of the runtime axis: one row per run and runtime (bench/{runtime}.json), one row per
run, runtime and batch size (the sweep), and the accuracy-versus-single-stream-latency frontier
over all runtimes and per runtime. A bench record that breaks its schema is an `invalid` row
(`tradeoffs.records.validate`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tradeoffs import fingerprint
from tradeoffs.analysis.frontier import frontier_points
from tradeoffs.analysis.load import HOST, IDENTITY, identity_from_path
from tradeoffs.hosts import host_of_path
from tradeoffs.records.validate import INVALID, InvalidRecordError, read_json_record, stage_schema

RUN = (*IDENTITY, HOST)
RUN_KEYS = (*RUN, "runtime")
# The columns the Markdown table shows (the CSV holds every scalar key of the records).
KEY_COLUMNS = (
    *RUN_KEYS,
    "status",
    "runtime_acc",
    "agreement_top1",
    "single_stream_latency_ms",
    "offline_throughput_sps",
    "offline_batch_size",
    "throughput_vs_eager",
    "setup_s",
    "runtime_size_mb",
    "p99_ci_met",
    "acc_ratio",
    "acc_ratio_lo",
    "meets_target",
    "reason",
)
FRONTIER_COST = "single_stream_latency_ms"
FRONTIER_VALUE = "runtime_acc"


def _scalars(record: dict[str, Any]) -> dict[str, Any]:
    """A record's keys for a table row: each [low, high] interval as `_low` and `_high`."""
    row: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, list) and len(value) == 2 and key.endswith("_ci"):
            row[f"{key}_low"], row[f"{key}_high"] = value
        elif not isinstance(value, (list, dict)):
            row[key] = value
    return row


def read_bench(paths: Sequence[str | Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runtimes, sweep): one row per bench/{runtime}.json, and one per swept batch size; a
    record naming its check's predictions file gets its path as `predictions_path`."""
    rows, points = [], []
    for path in paths:
        try:
            record = read_json_record(path, stage_schema("bench"))
        except InvalidRecordError as error:  # the run's folder says who it is, not the record
            identity = {**identity_from_path(Path(path).parent.parent), "runtime": Path(path).stem}
            identity[HOST] = host_of_path(path) or fingerprint.host_name()
            rows.append({**identity, "status": INVALID, "reason": f"{error}; remake it"})
            continue
        identity = {key: record.get(key) for key in RUN_KEYS}
        # A record from before `host` was a key: its import folder's host, else this machine's.
        identity[HOST] = identity[HOST] or host_of_path(path) or fingerprint.host_name()
        kept = record.get("runtime_predictions")
        found = {"predictions_path": str(Path(path).parent / kept)} if kept else {}
        rows.append({**identity, **_scalars(record), **found})
        points += [{**identity, **_scalars(point)} for point in record.get("sweep") or []]
    return with_eager_ratio(_frame(rows)), _frame(points)


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(RUN_KEYS))


def with_eager_ratio(runtimes: pd.DataFrame) -> pd.DataFrame:
    """`throughput_vs_eager`: each runtime's offline throughput over the same run's eager one."""
    if runtimes.empty or "offline_throughput_sps" not in runtimes:
        return runtimes.assign(throughput_vs_eager=pd.Series(dtype=float))
    eager = runtimes[runtimes["runtime"] == "eager"].set_index(list(RUN))
    base = runtimes.join(eager["offline_throughput_sps"].rename("eager_sps"), on=list(RUN))
    ratio = base["offline_throughput_sps"] / base["eager_sps"]
    return runtimes.assign(throughput_vs_eager=ratio)


def key_table(runtimes: pd.DataFrame) -> pd.DataFrame:
    return runtimes[[c for c in KEY_COLUMNS if c in runtimes]]


def runtime_frontier(runtimes: pd.DataFrame) -> pd.DataFrame:
    """Frontier members of accuracy (measured under the runtime) against single-stream latency,
    per dataset and machine: `scope` "all" over every runtime, or one runtime's name for its own
    frontier."""
    columns = [*RUN_KEYS, FRONTIER_VALUE, FRONTIER_COST]
    if runtimes.empty or FRONTIER_COST not in runtimes:
        return pd.DataFrame(columns=["scope", *columns])
    scopes = [("all", ("dataset", HOST)), ("runtime", ("dataset", HOST, "runtime"))]
    tables = []
    for scope, by in scopes:
        points = frontier_points(runtimes, FRONTIER_COST, FRONTIER_VALUE, by=by)
        members = points.loc[points["on_frontier"], columns]
        name = members["runtime"] if scope == "runtime" else scope
        tables.append(members.assign(scope=name))
    table = pd.concat(tables, ignore_index=True)
    return table[["scope", *columns]].sort_values(["scope", "dataset", FRONTIER_COST])
