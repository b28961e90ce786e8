"""Runtime tables across studies: every run and runtime, and the frontier of accuracy against
single-stream latency over all runtimes and per runtime."""

import argparse
from pathlib import Path

import pandas as pd

from tradeoffs import io
from tradeoffs.analysis import aggregate, style
from tradeoffs.analysis.figures.runtimes import runtime_frontier_figure
from tradeoffs.analysis.runtimes import runtime_frontier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", type=Path, nargs="+", required=True, help="runtimes.csv")
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--figure", type=Path, required=True)
    args = parser.parse_args()
    runtimes = pd.concat([pd.read_csv(p) for p in args.tables], ignore_index=True)
    frontier = runtime_frontier(runtimes)
    with io.atomic_path(args.out_dir / "runtimes.csv") as tmp:
        runtimes.to_csv(tmp, index=False)
    with io.atomic_path(args.out_dir / "frontier_runtimes.csv") as tmp:
        frontier.to_csv(tmp, index=False)
    io.write_text(args.out_dir / "frontier_runtimes.md", aggregate.to_markdown(frontier))
    figure = runtime_frontier_figure(runtimes)
    style.save(figure, args.figure, "Accuracy against single-stream latency, per runtime")
    print(f"{len(runtimes)} runtime records, {len(frontier)} frontier rows -> {args.out_dir}")


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
