"""Tables across studies: every run, every configuration, the Pareto frontiers of accuracy
against latency and against model size (across machines, over the runs that compare, and per
machine), the best run for preset budgets, and which machines' runs compare."""

import argparse
from pathlib import Path

import pandas as pd

from tradeoffs import io
from tradeoffs.analysis import aggregate, comparable, frontier, pick


def write_table(table: pd.DataFrame, stem: Path) -> None:
    with io.atomic_path(stem.with_suffix(".csv")) as tmp:
        table.to_csv(tmp, index=False)
    io.write_text(stem.with_suffix(".md"), aggregate.to_markdown(table))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=Path, nargs="+", required=True, help="studies' runs.csv")
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args()
    runs = pd.concat([pd.read_csv(p) for p in args.runs], ignore_index=True)
    out = args.out_dir
    with io.atomic_path(out / "runs.csv") as tmp:
        runs.to_csv(tmp, index=False)
    summary = aggregate.summary_table(runs)
    with io.atomic_path(out / "summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    io.write_text(out / "summary.md", aggregate.to_markdown(aggregate.compact_summary(summary)))
    across = comparable.comparable_runs(runs)
    for name, column in frontier.COSTS.items():
        points = frontier.frontier_points(across, column, ties=True)
        write_table(frontier.frontier_table(points, column), out / f"frontier_{name}")
    per_host = frontier.frontier_points(
        runs, frontier.COSTS["latency"], by=("dataset", "host"), ties=True
    )
    table = frontier.frontier_table(per_host, frontier.COSTS["latency"])
    write_table(table, out / "frontier_latency_by_host")
    write_table(comparable.comparability(runs), out / "comparability")
    write_table(pick.preset_table(runs), out / "picks")
    print(f"{len(runs)} runs from {len(args.runs)} studies -> {out}")


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
