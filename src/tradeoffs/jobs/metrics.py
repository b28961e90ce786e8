"""The metrics job: a run's metrics.json, its train, eval and bench records merged
(`records.metrics`), the derived metrics added, checked against the schema. The skip job writes
it too, for a run it skips.

Each record is checked as it is read (`records.validate`): one that breaks its schema
gives a metrics.json of status `invalid` whose reason names the file and the problem, and none
of the record's numbers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tradeoffs import io
from tradeoffs.analysis.derived import derived_metrics
from tradeoffs.records import predictions
from tradeoffs.records.metrics import invalid_metrics, merge_metrics, validate_metrics
from tradeoffs.records.validate import (
    InvalidRecordError,
    describe,
    problems,
    read_history,
    read_json_record,
    stage_schema,
)
from tradeoffs.runspec import RunSpec


def _corrupted_sets(path: Path) -> dict[str, Any]:
    """eval_corrupted.json: {set: eval record}, each checked as eval/{d}.json is."""
    sets = read_json_record(path, {"type": "object"})
    for name, record in sets.items():
        found = problems(record, stage_schema("eval"))
        if found:
            raise InvalidRecordError(describe(path, found, name))
    return sets


def _read_metrics(
    spec: RunSpec,
    train: Path,
    bench: Path,
    evals: Sequence[Path],
    corrupted: Sequence[Path],
    history: Path,
    fraction: float,
) -> dict[str, Any]:
    by_dataset = {path.stem: read_json_record(path, stage_schema("eval")) for path in evals}
    examples = {}
    for path in corrupted:
        by_dataset.update(_corrupted_sets(path))
        sets = path.with_name(predictions.CORRUPTED_FILE)  # written with it, by the same job
        if sets.exists():
            examples.update(predictions.read_sets(sets))
    train_record = read_json_record(train, stage_schema("train"))
    bench_record = read_json_record(bench, stage_schema("bench"))
    rows = read_history(history)
    metrics = merge_metrics(spec, train_record, by_dataset, bench_record)
    metrics.update(derived_metrics(metrics, by_dataset, rows, fraction, examples))
    return metrics


def write_metrics(
    spec: RunSpec,
    *,
    train: Path,
    bench: Path,
    evals: Sequence[Path],
    corrupted: Sequence[Path],
    history: Path,
    fraction: float,
    output: Path,
) -> None:
    """Merge the records at these paths (`corrupted`: eval_corrupted.json, if any) into
    `output`; `fraction` is the share of the best accuracy time-to-accuracy waits for."""
    try:
        metrics = _read_metrics(spec, train, bench, evals, corrupted, history, fraction)
    except InvalidRecordError as error:
        print(f"invalid record: {error}")
        metrics = invalid_metrics(
            spec, f"{error}; rerun the job that wrote it (snakemake --forcerun RULE)"
        )
    validate_metrics(metrics)
    io.write_json(output, metrics)
