"""Train one run: writes the model file, history.csv and train.json into the run folder."""

import argparse
import sys

from tradeoffs import engines, records
from tradeoffs.availability import unavailable_reason
from tradeoffs.data import DataError
from tradeoffs.runspec import add_run_arguments, spec_from_args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_run_arguments(parser)
    parser.add_argument(
        "--unavailable",
        metavar="REASON",
        help="the workflow already knows the backend cannot run here (a cluster without GPUs)",
    )
    args = parser.parse_args()
    spec = spec_from_args(args)
    started = records.now()
    reason = args.unavailable or unavailable_reason(spec.backend)
    if reason:
        if not spec.skip_unavailable:
            sys.exit(f"{reason}. Set skip_unavailable: true to record it as skipped instead.")
        print(f"skipped: {reason}")
        records.write_not_run(spec, "skipped", reason, started)
        return
    try:
        engines.load(spec.framework).train(spec)
    except DataError as error:
        sys.exit(f"train failed: {error}")


if __name__ == "__main__":
    main()
