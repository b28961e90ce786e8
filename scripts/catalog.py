"""summary/catalog.parquet: every run x runtime x host (tradeoffs.analysis.catalog)."""

import argparse
from pathlib import Path

import pandas as pd

from tradeoffs import io
from tradeoffs.analysis.catalog import build_catalog, write_catalog
from tradeoffs.analysis.load import read_metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--metrics", type=Path, nargs="+", required=True)
    parser.add_argument("--runtimes", type=Path, required=True, help="summary/runtimes.csv")
    parser.add_argument("--runs", type=Path, help="summary/runs.csv: the accuracy targets")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    targets = pd.read_csv(args.runs) if args.runs else None
    catalog = build_catalog(read_metrics(args.metrics), pd.read_csv(args.runtimes), targets)
    write_catalog(catalog, args.output)
    hosts = catalog["host"].nunique()
    print(f"{len(catalog)} rows (run x runtime) from {hosts} hosts -> {args.output}")


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
