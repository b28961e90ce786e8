"""The skip job: every record of a run whose backend this host or cluster lacks, in one
process: the train outputs, eval/{dataset}.json for each dataset it would be evaluated on,
bench/eager.json and metrics.json, each saying `skipped` and why."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tradeoffs import io
from tradeoffs.classmap import ClassMapError
from tradeoffs.data import DataError
from tradeoffs.jobs import JobError
from tradeoffs.jobs.benchmark import bench_record
from tradeoffs.jobs.evaluate import write_evaluation
from tradeoffs.jobs.metrics import write_metrics
from tradeoffs.records.not_run import write_not_run
from tradeoffs.records.provenance import now
from tradeoffs.runspec import RunSpec


def skip(
    spec: RunSpec,
    *,
    reason: str,
    eval_datasets: Sequence[str],
    runtime: str,
    bench: Path,
    fraction: float,
    output: Path,
) -> None:
    """Record the run as skipped for `reason`; `output` is its metrics.json, `bench` its
    bench/{runtime}.json, `fraction` time-to-accuracy's share of the best accuracy."""
    print(f"skipped: {reason}")
    write_not_run(spec, "skipped", reason, now())
    try:
        for name in eval_datasets:
            write_evaluation(spec, name)
    except (ClassMapError, DataError) as error:
        raise JobError(f"recording the skipped run failed: {error}") from None
    io.write_json(bench, bench_record(spec, runtime))
    write_metrics(
        spec,
        train=spec.run_dir / "train.json",
        bench=bench,
        evals=[spec.run_dir / "eval" / f"{name}.json" for name in eval_datasets],
        corrupted=[],
        history=spec.run_dir / "history.csv",
        fraction=fraction,
        output=output,
    )
