"""Train one run, then evaluate it on its own dataset's test split: writes the model file,
history.csv, train.json and eval/{dataset}.json (with its confusion matrix and report) into the
run folder. Evaluating here spares every run a second process that would load its framework
and model again; other datasets are the evaluate job's."""

import argparse
import sys

from tradeoffs import engines, io, records
from tradeoffs.availability import unavailable_reason
from tradeoffs.classmap import ClassMapError
from tradeoffs.data import DataError
from tradeoffs.eval_records import write_evaluation
from tradeoffs.runspec import add_run_arguments, spec_from_args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_run_arguments(parser)
    args = parser.parse_args()
    spec = spec_from_args(args)
    started = records.now()
    reason = unavailable_reason(spec.backend)
    if reason:
        if not spec.skip_unavailable:
            sys.exit(f"{reason}. Set skip_unavailable: true to record it as skipped instead.")
        print(f"skipped: {reason}")
        records.write_not_run(spec, "skipped", reason, started)
    else:
        try:
            engines.load(spec.framework).train(spec)
        except DataError as error:
            sys.exit(f"train failed: {error}")
    try:
        summary = write_evaluation(spec, spec.dataset)
    except (ClassMapError, DataError) as error:
        sys.exit(f"evaluate on {spec.dataset} failed: {error}")
    print(f"{spec.dataset}: {summary}")


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
