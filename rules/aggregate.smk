"""Tables: per study from its runs' metrics.json, then across studies with the frontiers."""

from tradeoffs.analysis.frontier import COSTS

ANALYSIS = f"{workflow.basedir}/src/tradeoffs/analysis"
STUDY_TABLES = ("runs.csv", "runs.md", "summary.csv", "summary.md", "comparison.md")
SUMMARY_TABLES = (
    "runs.csv",
    "summary.csv",
    "summary.md",
    *(f"frontier_{name}.{ext}" for name in COSTS for ext in ("csv", "md")),
)


def table_report(name, caption, category):
    """A table marked for the report."""
    return report(
        name,
        caption=f"../report/tables/{caption}.rst",
        category=category,
        subcategory="Tables",
    )


rule aggregate:
    input:
        metrics=lambda w: study_metrics(w.study),
        code=[f"{ANALYSIS}/aggregate.py", f"{ANALYSIS}/load.py"],
    output:
        runs=table_report(f"{RESULTS}/{{study}}/tables/runs.csv", "runs", "{study}"),
        runs_md=f"{RESULTS}/{{study}}/tables/runs.md",
        summary=table_report(
            f"{RESULTS}/{{study}}/tables/summary.csv", "summary", "{study}"
        ),
        summary_md=f"{RESULTS}/{{study}}/tables/summary.md",
        comparison=f"{RESULTS}/{{study}}/tables/comparison.md",
    log:
        f"{RESULTS}/{{study}}/logs/aggregate.log",
    conda:
        "../envs/analysis.yaml"
    shell:
        "python scripts/aggregate.py --metrics {input.metrics} "
        "--out-dir {RESULTS}/{wildcards.study}/tables > {log} 2>&1"


rule summary:
    input:
        runs=expand(f"{RESULTS}/{{study}}/tables/runs.csv", study=config["studies"]),
        code=[f"{ANALYSIS}/aggregate.py", f"{ANALYSIS}/frontier.py"],
    output:
        runs=table_report(f"{RESULTS}/summary/runs.csv", "all_runs", "summary"),
        summary=table_report(f"{RESULTS}/summary/summary.csv", "all_summary", "summary"),
        summary_md=f"{RESULTS}/summary/summary.md",
        frontier_latency=table_report(
            f"{RESULTS}/summary/frontier_latency.csv", "frontier_latency", "summary"
        ),
        frontier_latency_md=f"{RESULTS}/summary/frontier_latency.md",
        frontier_size=table_report(
            f"{RESULTS}/summary/frontier_size.csv", "frontier_size", "summary"
        ),
        frontier_size_md=f"{RESULTS}/summary/frontier_size.md",
    log:
        f"{RESULTS}/summary/logs/summary.log",
    conda:
        "../envs/analysis.yaml"
    shell:
        "python scripts/summary.py --runs {input.runs} "
        "--out-dir {RESULTS}/summary > {log} 2>&1"
