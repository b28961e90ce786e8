"""Read run records into tables: metrics.json files, history.csv and the eval CSVs.

Every metrics.json, and an ok run's history.csv, is checked when read
(`tradeoffs.records.validate`): a record that breaks its schema makes its run `invalid`, with
the problem and the fix as its reason and none of its numbers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from tradeoffs import schemas
from tradeoffs.hosts import host_of_path
from tradeoffs.identity import CONFIG_KEYS, HOST
from tradeoffs.identity import KEYS as IDENTITY
from tradeoffs.records import validate
from tradeoffs.records.validate import INVALID, InvalidRecordError, read_json_record

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


def identity_from_path(run_dir: Path) -> dict[str, Any]:
    """A run's identity from its folder (`config.Run.path`'s layout), for a record that cannot
    be trusted to say it; the folder's own name where the layout differs."""
    parts = run_dir.parts
    if len(parts) >= 8 and parts[-7] == "runs" and parts[-1].removeprefix("seed").isdigit():
        study, _, dataset, model, act, precision, backend, seed = parts[-8:]
        values = (study, dataset, model, act, precision, backend, int(seed.removeprefix("seed")))
        return dict(zip(IDENTITY, values, strict=True))
    return {key: None for key in IDENTITY} | {"model": run_dir.name}


def read_run(path: str | Path) -> dict[str, Any]:
    """One metrics.json as a flat row, checked against its schema (and, for an ok run, its
    history.csv against history's); a record that breaks them is an `invalid` row."""
    path = Path(path)
    try:
        record = read_json_record(path, {"type": "object"})
        if record.get(HOST) is None:  # a record from before `host` was a key (see _with_host)
            provenance = record.get("provenance")
            given = provenance.get("host") if isinstance(provenance, dict) else None
            record[HOST] = host_of_path(path) or given
        found = validate.problems(record, schemas.metrics_schema())
        if found:
            raise InvalidRecordError(validate.describe(path, found))
        if record["status"] == "ok":
            validate.read_history(path.parent / "history.csv")
    except InvalidRecordError as error:
        return {
            **identity_from_path(path.parent),
            "status": INVALID,
            "reason": f"{error}; remake it: snakemake --force {path}",
            "path": str(path.parent),
        }
    record.pop("record_layout")
    return {**flatten(record), "path": str(path.parent)}


@cache
def numeric_keys() -> frozenset[str]:
    """metrics.json's keys that hold numbers (or null), by the schema's types."""
    schema = schemas.metrics_schema()

    def is_number(definition: dict[str, Any]) -> bool:
        if "$ref" in definition:
            definition = schema["$defs"][definition["$ref"].rsplit("/", 1)[-1]]
        kinds = definition.get("type", [])
        kinds = [kinds] if isinstance(kinds, str) else kinds
        return "number" in kinds or "integer" in kinds

    return frozenset(key for key, d in schema["properties"].items() if is_number(d))


def read_metrics(paths: Sequence[str | Path]) -> pd.DataFrame:
    """One row per metrics.json, every key flattened, `path` = the run folder. Every numeric key
    of the schema is a number column even when no run measured it (every run skipped, failed
    or invalid): tables and figures of a study without a finished run compute as for any
    other."""
    rows = [_with_host(read_run(p)) for p in paths]
    if not rows:
        return pd.DataFrame(columns=list(TEXT_COLUMNS))
    table = pd.DataFrame(rows)
    for column in numeric_keys():
        if column not in table:
            table[column] = float("nan")
        elif table[column].dtype == object:
            table[column] = pd.to_numeric(table[column])
    for column in TEXT_COLUMNS:
        if column not in table:
            table[column] = None
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


def not_finished(runs: pd.DataFrame) -> str:
    """The runs that did not finish, counted by status and reason: "1 skipped (no CUDA
    device); 2 failed (...)" (empty when every run finished)."""
    missing = runs[runs["status"] != "ok"]
    reasons = missing.get("reason", pd.Series(None, index=missing.index, dtype=object))
    reasons = reasons.fillna("no reason recorded").astype(str)
    counts = missing.assign(reason=reasons).groupby(["status", "reason"], sort=True).size()
    return "; ".join(f"{n} {status} ({reason})" for (status, reason), n in counts.items())


def finished_note(runs: pd.DataFrame) -> str:
    """How many runs finished, and why the others did not."""
    if runs.empty:
        return "No runs."
    missing = not_finished(runs)
    done = int((runs["status"] == "ok").sum())
    return f"{done} of {len(runs)} runs finished" + (f"; {missing}." if missing else ".")


def varying_keys(runs: pd.DataFrame, keys: Sequence[str] = CONFIG_KEYS) -> list[str]:
    """The configuration keys whose value differs between rows (["model"] when none does)."""
    return [k for k in keys if k in runs and runs[k].nunique() > 1] or ["model"]


def config_labels(runs: pd.DataFrame, keys: Sequence[str] = CONFIG_KEYS) -> pd.Series:
    """A short name per row: the varying configuration keys' values, joined by '/'."""
    varying = varying_keys(runs, keys)
    if runs.empty:  # agg over no rows gives a frame, not a series
        return pd.Series(index=runs.index, dtype=object, name="/".join(varying))
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
