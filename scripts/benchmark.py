"""Benchmark one trained run under one runtime -> bench/{runtime}.json: the runtime checked
against eager, then a batch-size sweep (eager adds sizes, FLOPs/MACs and memory)."""

import argparse
import sys
from pathlib import Path

from tradeoffs import io, records
from tradeoffs.data import DataError
from tradeoffs.runspec import add_run_arguments, spec_from_args
from tradeoffs.runtimes import bench, kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_run_arguments(parser)
    parser.add_argument("--runtime", required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    spec = spec_from_args(args)
    status, reason = records.upstream_status(spec)
    head = {**spec.identity(), "runtime": args.runtime, "runtime_kind": kind(args.runtime)}
    if status == "ok":
        try:
            measured = bench.benchmark(spec, args.runtime)
        except DataError as error:
            sys.exit(f"benchmark failed: {error}")
        record = {**head, "status": "ok", "reason": None, **measured}
    else:
        record = {**head, "status": status, "reason": reason}
    io.write_json(args.output, record)
    print({k: v for k, v in record.items() if k != "sweep"})


if __name__ == "__main__":
    main()
