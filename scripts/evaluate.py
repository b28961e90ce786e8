"""Evaluate one trained run on another (`eval_on`) dataset: eval/{d}.json, the confusion
matrix, the per-class report. The train job writes the run's own dataset's."""

import argparse
import sys

from tradeoffs import io
from tradeoffs.classmap import ClassMapError
from tradeoffs.data import DataError
from tradeoffs.eval_records import write_evaluation
from tradeoffs.fileformat import UnexpectedFormatError
from tradeoffs.runspec import add_run_arguments, spec_from_args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_run_arguments(parser)
    parser.add_argument("--eval-dataset", required=True)
    args = parser.parse_args()
    spec = spec_from_args(args)
    try:
        summary = write_evaluation(spec, args.eval_dataset)
    except (ClassMapError, DataError, UnexpectedFormatError) as error:
        sys.exit(f"evaluate on {args.eval_dataset} failed: {error}")
    print(f"{args.eval_dataset}: {summary}")


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
