"""Merge one run's train, eval and bench records into metrics.json (checked by its schema)."""

import argparse
from pathlib import Path

import pandas as pd

from tradeoffs import io, records
from tradeoffs.analysis.derived import derived_metrics
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
    spec = spec_from_args(args)
    evals = {path.stem: io.read_json(path) for path in args.evals}
    for path in args.corrupted:
        evals.update(io.read_json(path))
    metrics = records.merge_metrics(spec, io.read_json(args.train), evals, io.read_json(args.bench))
    history = pd.read_csv(args.history)
    metrics.update(derived_metrics(metrics, evals, history, args.time_to_accuracy_fraction))
    records.validate_metrics(metrics)
    io.write_json(args.output, metrics)


if __name__ == "__main__":
    main()
