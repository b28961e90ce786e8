"""A study's tables: runs.csv/.md (every run), summary.csv/.md (per configuration over seeds),
comparison.md (seed 001's model comparison) and findings.md/.html (the study's findings)."""

import argparse
from pathlib import Path

from tradeoffs import io
from tradeoffs.analysis import aggregate, findings
from tradeoffs.analysis.load import read_metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--metrics", type=Path, nargs="+", required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--study", required=True)
    parser.add_argument("--findings", type=Path, required=True, help="findings.md; .html beside")
    args = parser.parse_args()
    runs = read_metrics(args.metrics)
    runs["did_not_learn"] = findings.did_not_learn(runs)
    summary = aggregate.summary_table(runs)
    out = args.out_dir
    with io.atomic_path(out / "runs.csv") as tmp:
        runs.to_csv(tmp, index=False)
    with io.atomic_path(out / "summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    io.write_text(out / "runs.md", aggregate.to_markdown(aggregate.compact_runs(runs)))
    io.write_text(out / "summary.md", aggregate.to_markdown(aggregate.compact_summary(summary)))
    io.write_text(out / "comparison.md", aggregate.to_markdown(aggregate.comparison_table(summary)))
    io.write_text(args.findings, findings.findings_markdown(args.study, runs))
    io.write_text(args.findings.with_suffix(".html"), findings.findings_html(args.study, runs))
    print(f"{len(runs)} runs, {len(summary)} configurations -> {out}")


if __name__ == "__main__":
    main()
