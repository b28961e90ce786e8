"""Tables: per study from its runs' metrics.json, then across studies with the frontiers."""

from tradeoffs.analysis import plan


rule aggregate:
    input:
        metrics=lambda w: study_metrics(w.study),
        code=plan.code("aggregate.py", "load.py", "robustness.py"),
    output:
        runs=report(
            f"{RESULTS}/{{study}}/tables/runs.csv",
            caption="../report/tables/runs.rst",
            category="{study}",
            subcategory="Tables",
        ),
        runs_md=f"{RESULTS}/{{study}}/tables/runs.md",
        summary=report(
            f"{RESULTS}/{{study}}/tables/summary.csv",
            caption="../report/tables/summary.rst",
            category="{study}",
            subcategory="Tables",
        ),
        summary_md=f"{RESULTS}/{{study}}/tables/summary.md",
        comparison=f"{RESULTS}/{{study}}/tables/comparison.md",
        robustness=report(
            f"{RESULTS}/{{study}}/tables/robustness.csv",
            caption="../report/tables/robustness.rst",
            category="{study}",
            subcategory="Tables",
        ),
        robustness_md=f"{RESULTS}/{{study}}/tables/robustness.md",
    log:
        f"{RESULTS}/{{study}}/logs/aggregate.log",
    conda:
        "../envs/analysis.yaml"
    params:
        out_dir=lambda w, output: os.path.dirname(output.runs),
        study=study_json,
    shell:
        "python scripts/aggregate.py --metrics {input.metrics} "
        "--study-json {params.study:q} --out-dir {params.out_dir} > {log} 2>&1"


rule summary:
    input:
        runs=expand(f"{RESULTS}/{{study}}/tables/runs.csv", study=config["studies"]),
        code=plan.code("aggregate.py", "frontier.py"),
    output:
        runs=report(
            f"{RESULTS}/summary/runs.csv",
            caption="../report/tables/all_runs.rst",
            category="summary",
            subcategory="Tables",
        ),
        summary=report(
            f"{RESULTS}/summary/summary.csv",
            caption="../report/tables/all_summary.rst",
            category="summary",
            subcategory="Tables",
        ),
        summary_md=f"{RESULTS}/summary/summary.md",
        frontier_latency=report(
            f"{RESULTS}/summary/frontier_latency.csv",
            caption="../report/tables/frontier_latency.rst",
            category="summary",
            subcategory="Tables",
        ),
        frontier_latency_md=f"{RESULTS}/summary/frontier_latency.md",
        frontier_size=report(
            f"{RESULTS}/summary/frontier_size.csv",
            caption="../report/tables/frontier_size.rst",
            category="summary",
            subcategory="Tables",
        ),
        frontier_size_md=f"{RESULTS}/summary/frontier_size.md",
    log:
        f"{RESULTS}/summary/logs/summary.log",
    conda:
        "../envs/analysis.yaml"
    params:
        out_dir=lambda w, output: os.path.dirname(output.runs),
    shell:
        "python scripts/summary.py --runs {input.runs} "
        "--out-dir {params.out_dir} > {log} 2>&1"
