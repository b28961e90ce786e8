"""Where the time went: every job's Snakemake `benchmark:` record, summed by rule and study.

Each per-run rule (and each study's table and figure rules) writes a benchmark TSV beside its
outputs: `{results}/{study}/.../benchmarks/{rule}[_{name}].tsv`, with the job's wall seconds
(`s`), CPU seconds and peak resident memory. Job seconds add up over jobs that ran in parallel,
so their sum is the work done, not the run's wall time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

COLUMNS = {"s": "job_s", "cpu_time": "cpu_s", "max_rss": "peak_rss_mb"}


def rule_of(path: Path) -> str:
    """The rule a benchmark file belongs to: its name up to the first underscore
    (`evaluate_digits.tsv` -> evaluate, `figures.tsv` -> figures)."""
    return path.stem.split("_", 1)[0]


def benchmark_files(folders: Sequence[str | Path]) -> list[Path]:
    """The benchmark records Snakemake wrote in each folder's `benchmarks/`."""
    return [path for folder in folders for path in sorted(Path(folder).glob("benchmarks/*.tsv"))]


def read_benchmarks(paths: Sequence[str | Path], results_dir: str | Path) -> pd.DataFrame:
    """One row per job: study (first folder under `results_dir`), rule, job and CPU seconds,
    peak RSS."""
    rows = []
    root = Path(results_dir)
    for path in map(Path, paths):
        record = pd.read_csv(path, sep="\t").iloc[-1]  # the last repeat, when several
        row = {"study": path.relative_to(root).parts[0], "rule": rule_of(path)}
        row.update(
            {new: pd.to_numeric(record.get(old), errors="coerce") for old, new in COLUMNS.items()}
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=["study", "rule", *COLUMNS.values()])


def time_table(jobs: pd.DataFrame, by: str) -> pd.DataFrame:
    """Jobs, summed job and CPU seconds, share of all job seconds, mean seconds per job and the
    largest peak RSS, per value of `by`, largest first."""
    grouped = jobs.groupby(by)
    table = pd.DataFrame(
        {
            "jobs": grouped.size(),
            "job_s": grouped["job_s"].sum(),
            "cpu_s": grouped["cpu_s"].sum(),
            "mean_job_s": grouped["job_s"].mean(),
            "max_peak_rss_mb": grouped["peak_rss_mb"].max(),
        }
    )
    table["share"] = table["job_s"] / table["job_s"].sum()
    table = table.sort_values("job_s", ascending=False).reset_index()
    total = {
        by: "all",
        "jobs": len(jobs),
        "job_s": jobs["job_s"].sum(),
        "cpu_s": jobs["cpu_s"].sum(),
        "mean_job_s": jobs["job_s"].mean(),
        "max_peak_rss_mb": jobs["peak_rss_mb"].max(),
        "share": 1.0,
    }
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)
