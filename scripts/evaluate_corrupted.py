"""Evaluate one trained run on its corrupted test sets: eval_corrupted.json, {set: record} with
the summary keys of eval/{d}.json (one engine start-up for every set, no per-class tables),
and every set's per-example predictions in eval_corrupted_predictions.npz beside it."""

from pathlib import Path

from tradeoffs.jobs import cli
from tradeoffs.jobs.evaluate import evaluate_corrupted

if __name__ == "__main__":
    cli.run(
        __doc__,
        evaluate_corrupted,
        cli.option(
            "--eval-dataset", dest="eval_datasets", nargs="+", required=True, help="corrupted sets"
        ),
        cli.option("--output", type=Path, required=True),
    )
