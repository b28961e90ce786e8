"""The device the dashboard picks a model for: its runs, the candidates it never measured, and
its rows of the catalog (summary/catalog.parquet, read with DuckDB)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from tradeoffs.analysis.load import HOST, IDENTITY

CATALOG = Path("summary") / "catalog.parquet"
CANDIDATE = tuple(k for k in IDENTITY if k != "seed")  # a configuration, whatever its seed
LATENCIES = ("latency_ms_p50", "latency_ms_p95")


def hosts(runs: pd.DataFrame) -> list[str]:
    """Every machine with a run in the results directory (this one and imported ones)."""
    return sorted(runs[HOST].dropna().astype(str).unique()) if HOST in runs else []


def device_runs(runs: pd.DataFrame, host: str | None) -> pd.DataFrame:
    """The runs `host` measured (all runs when no run records its host)."""
    if host is None or HOST not in runs:
        return runs
    return runs[runs[HOST] == host]


def unmeasured(runs: pd.DataFrame, host: str) -> pd.DataFrame:
    """Configurations another machine measured that `host` has no latency for (never ran, or
    ran without a measurement), with the machines that did measure them."""
    keys = [k for k in CANDIDATE if k in runs]
    latency = [c for c in LATENCIES if c in runs]
    measured = runs[runs[latency].notna().any(axis=1)] if latency else runs.iloc[0:0]
    mine = measured[measured[HOST] == host][keys].drop_duplicates()
    others = measured[measured[HOST] != host]
    if others.empty:
        return pd.DataFrame(columns=[*keys, "measured_on"])
    where = others.groupby(keys, sort=True)[HOST].agg(lambda h: ", ".join(sorted(set(h))))
    table = where.rename("measured_on").reset_index()
    merged = table.merge(mine, on=keys, how="left", indicator=True)
    return merged[merged["_merge"] == "left_only"].drop(columns="_merge").reset_index(drop=True)


def catalog_rows(results: Path, host: str) -> pd.DataFrame | None:
    """The catalog's rows of `host` (every runtime), most accurate first, with whether each
    meets its study's accuracy target (format and runtime; a catalog from before the column
    shows none); None when the pipeline has not written the catalog yet."""
    path = results / CATALOG
    if not path.is_file():
        return None
    columns = duckdb.execute("SELECT * FROM read_parquet(?) LIMIT 0", [str(path)]).df().columns
    target = ", meets_target" if "meets_target" in columns else ""
    query = (
        "SELECT model, precision, backend, runtime, status, accuracy, latency_ms_p95, "
        f"single_stream_latency_ms, offline_throughput_sps{target} FROM read_parquet(?) "
        "WHERE host = ? ORDER BY accuracy DESC NULLS LAST, latency_ms_p95"
    )
    return duckdb.execute(query, [str(path), host]).df()
