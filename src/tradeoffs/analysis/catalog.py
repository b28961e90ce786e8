"""`summary/catalog.parquet`: one row per run x runtime x host, for DuckDB or pandas.

The columns (docs/architecture.md, "Catalog") are the run's identity and host, the runtime,
accuracy, latency, throughput and size, the accuracy-target tests (`acc_ratio_lo` of the run
against its study's reference, `runtime_acc_ratio_lo` of the runtime against eager, and
`meets_target` when both pass), and the machine's fingerprint in a few columns, with fixed
types so a query written today reads every catalog.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tradeoffs import io
from tradeoffs.analysis.frontier import with_model_size
from tradeoffs.analysis.load import HOST, IDENTITY
from tradeoffs.analysis.runtimes import RUN

FINGERPRINT = "provenance.fingerprint."
SCHEMA = pa.schema(
    [
        *((key, pa.int64() if key == "seed" else pa.string()) for key in IDENTITY),
        (HOST, pa.string()),
        ("runtime", pa.string()),
        ("runtime_kind", pa.string()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("test_acc", pa.float64()),
        ("runtime_acc", pa.float64()),
        ("accuracy", pa.float64()),
        ("latency_ms_p50", pa.float64()),
        ("latency_ms_p95", pa.float64()),
        ("latency_ms_p99", pa.float64()),
        ("single_stream_latency_ms", pa.float64()),
        ("offline_throughput_sps", pa.float64()),
        ("throughput_vs_eager", pa.float64()),
        ("model_size_mb", pa.float64()),
        ("runtime_size_mb", pa.float64()),
        ("acc_ratio_lo", pa.float64()),
        ("runtime_acc_ratio_lo", pa.float64()),
        ("meets_target", pa.bool_()),
        ("params", pa.float64()),
        ("energy_proxy", pa.float64()),
        ("host_id", pa.string()),
        ("cpu_model", pa.string()),
        ("logical_cores", pa.int64()),
        ("memory_gib", pa.float64()),
        ("vector_extensions", pa.string()),
        ("accelerators", pa.string()),
        ("os", pa.string()),
        ("config_hash", pa.string()),
        ("data_digest", pa.string()),
        ("versions", pa.string()),
    ]
)
RUN_COLUMNS = ("test_acc", "params", "energy_proxy", "model_size_mb")
TARGET_COLUMNS = ("acc_ratio_lo", "meets_target")  # the run's accuracy_target test


def _machine(run: pd.Series) -> dict[str, Any]:
    def get(key: str) -> Any:
        value = run.get(key)
        return None if value is None or (not isinstance(value, list) and pd.isna(value)) else value

    vector = get(f"{FINGERPRINT}vector_extensions")
    gpus = get(f"{FINGERPRINT}accelerators") or []
    system, kernel = get(f"{FINGERPRINT}os.system"), get(f"{FINGERPRINT}os.kernel")
    versions = {
        k.removeprefix("provenance.versions."): get(k)
        for k in run.index
        if k.startswith("provenance.versions.") and get(k) is not None
    }
    return {
        "host_id": get("provenance.host_id"),
        "cpu_model": get(f"{FINGERPRINT}cpu_model") or get("provenance.cpu"),
        "logical_cores": get(f"{FINGERPRINT}logical_cores"),
        "memory_gib": get(f"{FINGERPRINT}memory_gib"),
        "vector_extensions": ",".join(vector) if isinstance(vector, list) else None,
        "accelerators": ", ".join(str(g.get("model")) for g in gpus if isinstance(g, dict)) or None,
        "os": " ".join(str(p) for p in (system, kernel) if p) or None,
        "config_hash": get("provenance.config_hash"),
        "data_digest": get("provenance.data_digest"),
        "versions": json.dumps(versions, sort_keys=True) if versions else None,
    }


def as_verdict(value: Any) -> bool | None:
    """A `meets_target` cell as True, False or None (untested), from a bool or its CSV text."""
    if value in (True, "True"):
        return True
    if value in (False, "False"):
        return False
    return None


def with_targets(runs: pd.DataFrame, targets: pd.DataFrame | None) -> pd.DataFrame:
    """`runs` with the accuracy-target columns of the studies' runs.csv (`targets`, matched on
    the run's identity and host): `acc_ratio_lo` and `meets_target` against the study's
    reference; empty where a study set no target."""
    runs = runs.drop(columns=[c for c in TARGET_COLUMNS if c in runs])
    keys = [k for k in RUN if k in runs and targets is not None and k in targets]
    if targets is None or targets.empty or "meets_target" not in targets or len(keys) < len(RUN):
        return runs.assign(acc_ratio_lo=float("nan"), meets_target=None)
    kept = targets[[*keys, *TARGET_COLUMNS]].drop_duplicates(keys)
    kept = kept.assign(meets_target=kept["meets_target"].map(as_verdict).astype(object))
    for key in keys:  # a csv round trip may read a seed or a name with another dtype
        kept[key] = kept[key].astype(runs[key].dtype)
    return runs.merge(kept, on=keys, how="left")


def _deployed_verdict(run: Any, runtime: Any) -> bool | None:
    """A run under a runtime meets the target when its format meets it against the study's
    reference and its runtime against the eager model (eager: by definition); untested (None)
    when either test is missing."""
    run, runtime = as_verdict(run), as_verdict(runtime)
    if run is False or runtime is False:
        return False
    return True if run and runtime else None


def build_catalog(
    runs: pd.DataFrame, runtimes: pd.DataFrame, targets: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Join every runtime record to its run (`read_metrics` rows, fingerprint included) on the
    run's identity and host; a run without runtime records gets one row with no runtime.
    `targets` (the studies' runs.csv) give each run's accuracy-target test against its
    reference, joined with its runtime's test against eager into `meets_target`."""
    runs = with_targets(with_model_size(runs), targets)
    machine = pd.DataFrame([_machine(row) for _, row in runs.iterrows()], index=runs.index)
    keep = [c for c in (*RUN, *RUN_COLUMNS, *TARGET_COLUMNS) if c in runs]
    left = pd.concat([runs[keep], machine], axis=1)
    if runtimes.empty:
        table = left.assign(runtime=None)
    else:
        right = runtimes.drop(columns=[c for c in RUN_COLUMNS if c in runtimes])
        right = right.rename(
            columns={"acc_ratio_lo": "runtime_acc_ratio_lo", "meets_target": "runtime_meets"}
        )
        right = right.drop(columns=[c for c in ("acc_ratio",) if c in right])
        table = left.merge(right, on=list(RUN), how="left", suffixes=("_run", ""))
    runtime_meets = table.get("runtime_meets", pd.Series(None, index=table.index))
    eager = table["runtime"].isna() | (table["runtime"] == "eager")
    runtime_meets = runtime_meets.astype(object).where(~eager, True)
    table["meets_target"] = [
        _deployed_verdict(run, runtime)
        for run, runtime in zip(table["meets_target"], runtime_meets, strict=True)
    ]
    if "status" not in table:
        table["status"] = None
    table["accuracy"] = table.get("runtime_acc", pd.Series(index=table.index, dtype=float))
    table["accuracy"] = table["accuracy"].fillna(table["test_acc"])
    columns = {}
    for field in SCHEMA:
        values = table[field.name] if field.name in table else pd.Series(None, index=table.index)
        columns[field.name] = values.astype(object).where(values.notna(), None).tolist()
    return pa.Table.from_pydict(columns, schema=SCHEMA).to_pandas()


def write_catalog(catalog: pd.DataFrame, target: Path) -> None:
    table = pa.Table.from_pandas(catalog, schema=SCHEMA, preserve_index=False)
    with io.atomic_path(target) as tmp:
        pq.write_table(table, tmp)
