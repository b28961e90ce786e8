"""Merge one run's train, eval and bench records into metrics.json (checked by its schema)."""

import argparse
from pathlib import Path

from tradeoffs import io, records
from tradeoffs.analysis.energy import energy_proxy
from tradeoffs.runspec import add_run_arguments, spec_from_args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_run_arguments(parser)
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--bench", type=Path, required=True)
    parser.add_argument("--evals", type=Path, nargs="+", required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    spec = spec_from_args(args)
    evals = {path.stem: io.read_json(path) for path in args.evals}
    metrics = records.merge_metrics(spec, io.read_json(args.train), evals, io.read_json(args.bench))
    metrics["energy_proxy"] = energy_proxy(metrics)
    records.validate_metrics(metrics)
    io.write_json(args.output, metrics)


if __name__ == "__main__":
    main()
