"""Merge one run's train, eval and bench records into metrics.json (checked by its schema)."""

import argparse
from pathlib import Path

from tradeoffs import io
from tradeoffs.metrics_record import write_metrics
from tradeoffs.runspec import add_run_arguments, spec_from_args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_run_arguments(parser)
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--bench", type=Path, required=True)
    parser.add_argument("--evals", type=Path, nargs="+", required=True)
    parser.add_argument(
        "--corrupted", type=Path, nargs="*", default=[], help="eval_corrupted.json, if any"
    )
    parser.add_argument("--history", type=Path, required=True, help="the run's history.csv")
    parser.add_argument("--time-to-accuracy-fraction", type=float, required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    write_metrics(
        spec_from_args(args),
        train=args.train,
        bench=args.bench,
        evals=args.evals,
        corrupted=args.corrupted,
        history=args.history,
        fraction=args.time_to_accuracy_fraction,
        output=args.output,
    )


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
