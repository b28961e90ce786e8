"""Read run records into tables: metrics.json files, history.csv and the eval CSVs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tradeoffs import io
from tradeoffs.hosts import host_of_path
from tradeoffs.identity import CONFIG_KEYS, HOST
from tradeoffs.identity import KEYS as IDENTITY

TEXT_COLUMNS = (
    *IDENTITY,
    HOST,
    "status",
    "reason",
    "framework",
    "device_name",
    "ood_dataset",
    "path",
)


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted keys: {"eval": {"digits": {"acc": 1}}} -> eval.digits.acc."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _column_order(columns: Iterable[str]) -> list[str]:
    first = [c for c in TEXT_COLUMNS if c in columns]
    rest = [c for c in columns if c not in first]
    top = sorted(c for c in rest if "." not in c)
    nested = sorted(c for c in rest if c.startswith("eval."))
    other = sorted(c for c in rest if "." in c and not c.startswith("eval."))
    return first + top + nested + other


def _with_host(row: dict[str, Any]) -> dict[str, Any]:
    """A record made before `host` was a key gets its import folder's host, else its
    provenance's."""
    if row.get(HOST) is None:
        row[HOST] = host_of_path(row["path"]) or row.get("provenance.host")
    return row


def read_metrics(paths: Sequence[str | Path]) -> pd.DataFrame:
    """One row per metrics.json, every key flattened, `path` = the run folder."""
    rows = [_with_host({**flatten(io.read_json(p)), "path": str(Path(p).parent)}) for p in paths]
    if not rows:
        return pd.DataFrame(columns=list(TEXT_COLUMNS))
    table = pd.DataFrame(rows)
    table = table[_column_order(table.columns)]
    return table.sort_values([*IDENTITY, HOST], kind="stable").reset_index(drop=True)


def metric_columns(runs: pd.DataFrame) -> list[str]:
    """Top-level numeric measurements (not identity, not nested eval/provenance keys)."""
    return [
        c
        for c in runs.columns
        if c not in TEXT_COLUMNS
        and "." not in c
        and pd.api.types.is_numeric_dtype(runs[c])
        and not pd.api.types.is_bool_dtype(runs[c])
    ]


def ok_runs(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["status"] == "ok"]


def varying_keys(runs: pd.DataFrame, keys: Sequence[str] = CONFIG_KEYS) -> list[str]:
    """The configuration keys whose value differs between rows (["model"] when none does)."""
    return [k for k in keys if k in runs and runs[k].nunique() > 1] or ["model"]


def config_labels(runs: pd.DataFrame, keys: Sequence[str] = CONFIG_KEYS) -> pd.Series:
    """A short name per row: the varying configuration keys' values, joined by '/'."""
    varying = varying_keys(runs, keys)
    return runs[varying].astype(str).agg("/".join, axis=1).rename("/".join(varying))


def read_history(run_dir: str | Path) -> pd.DataFrame:
    return pd.read_csv(Path(run_dir) / "history.csv")


def read_confusion(run_dir: str | Path, dataset: str) -> pd.DataFrame:
    return pd.read_csv(Path(run_dir) / "eval" / f"{dataset}_confusion.csv", index_col=0)


def read_class_report(run_dir: str | Path, dataset: str) -> pd.DataFrame:
    return pd.read_csv(Path(run_dir) / "eval" / f"{dataset}_report.csv")


def histories(runs: pd.DataFrame) -> pd.DataFrame:
    """Every ok run's history.csv stacked, with the run's identity and label on each row."""
    runs = ok_runs(runs)
    labels = config_labels(runs)
    frames = [
        read_history(row.path).assign(**{k: getattr(row, k) for k in IDENTITY}, label=label)
        for row, label in zip(runs.itertuples(), labels, strict=True)
    ]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
