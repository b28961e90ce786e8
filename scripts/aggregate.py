"""A study's tables: runs.csv/.md (every run), summary.csv/.md (per configuration over seeds),
comparison.md (seed 001's model comparison), robustness.csv/.md (accuracy under corruption) and
findings.md/.html (the study's findings)."""

import argparse
import json
from pathlib import Path

from tradeoffs import io
from tradeoffs.analysis import (
    accuracy_target,
    aggregate,
    findings,
    noise_floor,
    robustness,
    serving,
)
from tradeoffs.analysis.load import read_metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--metrics", type=Path, nargs="+", required=True)
    parser.add_argument("--serving", type=Path, nargs="*", default=[], help="serving/*.json")
    parser.add_argument("--study-json", required=True, help="the study's config, as JSON")
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--study", required=True)
    parser.add_argument("--findings", type=Path, required=True, help="findings.md; .html beside")
    parser.add_argument(
        "--noise-floor", type=Path, help="benchmarks/noise_floor.py's last measurement, if any"
    )
    args = parser.parse_args()
    runs = read_metrics(args.metrics)
    runs["did_not_learn"] = findings.did_not_learn(runs)
    served = serving.read_serving(args.serving)[0]
    if args.serving:
        runs = serving.with_server_qps(runs, served)
    study_config = json.loads(args.study_json)
    corrupted = study_config.get("eval_on_corrupted")
    if corrupted:
        runs = robustness.with_corruption_errors(runs, corrupted["reference"])
    runs = accuracy_target.with_accuracy_target(
        runs, args.study, study_config.get("accuracy_target")
    )
    summary = aggregate.summary_table(runs)
    out = args.out_dir
    with io.atomic_path(out / "runs.csv") as tmp:
        runs.to_csv(tmp, index=False)
    with io.atomic_path(out / "summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    io.write_text(out / "runs.md", aggregate.to_markdown(aggregate.compact_runs(runs)))
    io.write_text(out / "summary.md", aggregate.to_markdown(aggregate.compact_summary(summary)))
    comparison = aggregate.comparison_table(summary)
    io.write_text(out / "comparison.md", aggregate.to_markdown(comparison, runs))
    noise = noise_floor.measurement(args.noise_floor)
    sentences = findings.findings(args.study, runs, served, study_config, noise)  # once, for both
    io.write_text(args.findings, findings.findings_markdown(args.study, sentences))
    io.write_text(args.findings.with_suffix(".html"), findings.findings_html(args.study, sentences))
    table = robustness.robustness_table(runs)
    with io.atomic_path(out / "robustness.csv") as tmp:
        table.to_csv(tmp, index=False)
    shown = robustness.robustness_markdown(table)
    text = aggregate.to_markdown(shown) if not table.empty else robustness.NO_CORRUPTED_SETS
    io.write_text(out / "robustness.md", text)
    print(f"{len(runs)} runs, {len(summary)} configurations -> {out}")


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
