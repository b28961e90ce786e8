"""Merge one run's train, eval and bench records into metrics.json (checked by its schema)."""

from pathlib import Path

from tradeoffs.jobs import cli
from tradeoffs.jobs.metrics import write_metrics

if __name__ == "__main__":
    cli.run(
        __doc__,
        write_metrics,
        cli.option("--train", type=Path, required=True),
        cli.option("--bench", type=Path, required=True),
        cli.option("--evals", type=Path, nargs="+", required=True),
        cli.option(
            "--corrupted", type=Path, nargs="*", default=[], help="eval_corrupted.json, if any"
        ),
        cli.option("--history", type=Path, required=True, help="the run's history.csv"),
        cli.option("--time-to-accuracy-fraction", dest="fraction", type=float, required=True),
        cli.option("--output", type=Path, required=True),
    )
