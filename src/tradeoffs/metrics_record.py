"""A run's metrics.json: its train, eval and bench records merged, the derived metrics added,
checked against the schema. The metrics job writes it; the skip job too, for a run it skips."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from tradeoffs import io, per_example, records
from tradeoffs.analysis.derived import derived_metrics
from tradeoffs.runspec import RunSpec


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
    by_dataset = {path.stem: io.read_json(path) for path in evals}
    examples = {}
    for path in corrupted:
        by_dataset.update(io.read_json(path))
        sets = path.with_name(per_example.CORRUPTED_FILE)  # written with it, by the same job
        if sets.exists():
            examples.update(per_example.read_sets(sets))
    metrics = records.merge_metrics(spec, io.read_json(train), by_dataset, io.read_json(bench))
    metrics.update(derived_metrics(metrics, by_dataset, pd.read_csv(history), fraction, examples))
    records.validate_metrics(metrics)
    io.write_json(output, metrics)
