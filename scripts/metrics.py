"""Merge one run's train, eval and bench records into metrics.json (checked by its schema)."""

import argparse
from pathlib import Path

import pandas as pd

from tradeoffs import io, records
from tradeoffs.analysis.energy import energy_proxy
from tradeoffs.analysis.robustness import corruption_summary
from tradeoffs.analysis.time_to_accuracy import time_to_accuracy
from tradeoffs.runspec import add_run_arguments, spec_from_args

NO_CORRUPTED = "the study has no eval_on_corrupted sets"


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
    metrics["energy_proxy"] = energy_proxy(metrics)
    corrupted = corruption_summary(evals)
    why = "an evaluation on a corrupted set has no result" if corrupted else NO_CORRUPTED
    for key in ("corruption_acc", "corruption_ece", "corruption_sets"):
        metrics.update(records.measured(key, corrupted.get(key), why))
    fraction = args.time_to_accuracy_fraction
    reached = time_to_accuracy(pd.read_csv(args.history), metrics["test_acc"], fraction)
    why = f"no epoch reached {fraction:g} of the final test accuracy"
    metrics.update(records.measured("time_to_acc_s", reached, why))
    metrics["time_to_acc_fraction"] = fraction
    records.validate_metrics(metrics)
    io.write_json(args.output, metrics)


if __name__ == "__main__":
    main()
