"""Benchmark one trained run: sizes, FLOPs/MACs, latency, throughput, memory -> bench.json."""

import argparse
import sys

from tradeoffs import engines, io, records
from tradeoffs.data import DataError
from tradeoffs.runspec import add_run_arguments, spec_from_args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_run_arguments(parser)
    spec = spec_from_args(parser.parse_args())
    status, reason = records.upstream_status(spec)
    if status == "ok":
        try:
            measured = engines.load(spec.framework).benchmark(spec)
        except DataError as error:
            sys.exit(f"benchmark failed: {error}")
        bench = {"status": "ok", "reason": None, **measured}
    else:
        bench = {"status": status, "reason": reason}
    io.write_json(spec.run_dir / "bench.json", bench)
    print(bench)


if __name__ == "__main__":
    main()
