"""Every record of a run whose backend this host or cluster lacks, in one process: the train
outputs, eval/{dataset}.json for each dataset it would be evaluated on, bench/eager.json and
metrics.json, each saying `skipped` and why."""

import argparse
import sys
from pathlib import Path

from tradeoffs import io, records
from tradeoffs.classmap import ClassMapError
from tradeoffs.data import DataError
from tradeoffs.eval_records import write_evaluation
from tradeoffs.metrics_record import write_metrics
from tradeoffs.runspec import add_run_arguments, spec_from_args
from tradeoffs.runtimes.bench import bench_record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_run_arguments(parser)
    parser.add_argument("--reason", required=True, help="why the backend cannot run here")
    parser.add_argument("--eval-datasets", nargs="+", required=True)
    parser.add_argument("--runtime", required=True)
    parser.add_argument("--bench", type=Path, required=True)
    parser.add_argument("--time-to-accuracy-fraction", type=float, required=True)
    parser.add_argument("--output", type=Path, required=True, help="metrics.json")
    args = parser.parse_args()
    spec = spec_from_args(args)
    print(f"skipped: {args.reason}")
    records.write_not_run(spec, "skipped", args.reason, records.now())
    try:
        for name in args.eval_datasets:
            write_evaluation(spec, name)
    except (ClassMapError, DataError) as error:
        sys.exit(f"recording the skipped run failed: {error}")
    io.write_json(args.bench, bench_record(spec, args.runtime))
    write_metrics(
        spec,
        train=spec.run_dir / "train.json",
        bench=args.bench,
        evals=[spec.run_dir / "eval" / f"{name}.json" for name in args.eval_datasets],
        corrupted=[],
        history=spec.run_dir / "history.csv",
        fraction=args.time_to_accuracy_fraction,
        output=args.output,
    )


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
