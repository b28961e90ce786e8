"""Where the time went: the jobs' benchmark records summed by rule and by study
(timings_by_rule.csv, timings_by_study.csv and timings.md)."""

import argparse
from pathlib import Path

from tradeoffs import io
from tradeoffs.analysis import aggregate, timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--folders", type=Path, nargs="+", required=True, help="folders holding benchmarks/"
    )
    parser.add_argument("--results-dir", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args()
    jobs = timings.read_benchmarks(timings.benchmark_files(args.folders), args.results_dir)
    sections = []
    for by in ("rule", "study"):
        table = timings.time_table(jobs, by)
        with io.atomic_path(args.out_dir / f"timings_by_{by}.csv") as tmp:
            table.to_csv(tmp, index=False)
        sections.append(f"## By {by}\n\n{aggregate.to_markdown(table)}")
    note = (
        "# Where the time went\n\nSnakemake's `benchmark:` record of every job. Job seconds "
        "are summed over jobs that ran in parallel: the work done, not the run's wall time.\n\n"
    )
    io.write_text(args.out_dir / "timings.md", note + "\n".join(sections))
    print(f"{len(jobs)} jobs -> {args.out_dir}")


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
