"""Tables: per study from its runs' metrics.json, then across studies with the frontiers."""

from tradeoffs.analysis import plan
from tradeoffs.hosts import imported_bench, imported_metrics


rule aggregate:
    input:
        metrics=lambda w: study_metrics(w.study) + imported_metrics(RESULTS, w.study),
        serving=lambda w: study_serving(w.study),
        code=plan.code(
            "aggregate.py",
            "load.py",
            "findings.py",
            "robustness.py",
            "comparable.py",
            "serving.py",
            "noise_floor.py",
        ),
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
        findings=f"{RESULTS}/{{study}}/findings.md",
        findings_html=report(
            f"{RESULTS}/{{study}}/findings.html",
            caption="../report/tables/findings.rst",
            category="{study}",
            subcategory="Findings",
        ),
        robustness=report(
            f"{RESULTS}/{{study}}/tables/robustness.csv",
            caption="../report/tables/robustness.rst",
            category="{study}",
            subcategory="Tables",
        ),
        robustness_md=f"{RESULTS}/{{study}}/tables/robustness.md",
    log:
        f"{RESULTS}/{{study}}/logs/aggregate.log",
    benchmark:
        f"{RESULTS}/{{study}}/benchmarks/aggregate.tsv"
    conda:
        "../envs/analysis.yaml"
    params:
        python=PYTHON["analysis"],
        out_dir=lambda w, output: os.path.dirname(output.runs),
        study=whole_study_json,
        serving=lambda w, input: shlex.join(input.serving),
        noise_floor=f"{RESULTS}/noise_floor.json",  # benchmarks/noise_floor.py's, if measured
    shell:
        "{params.python:q} scripts/aggregate.py --metrics {input.metrics:q} "
        "--serving {params.serving} --study-json {params.study:q} --out-dir {params.out_dir:q} "
        "--study {wildcards.study:q} --findings {output.findings:q} "
        "--noise-floor {params.noise_floor:q} > {log:q} 2>&1"


rule summary:
    input:
        runs=expand(f"{RESULTS}/{{study}}/tables/runs.csv", study=config["studies"]),
        code=plan.code("aggregate.py", "frontier.py", "pick.py", "comparable.py"),
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
        frontier_serving=report(
            f"{RESULTS}/summary/frontier_serving.csv",
            caption="../report/tables/frontier_serving.rst",
            category="summary",
            subcategory="Tables",
        ),
        frontier_serving_md=f"{RESULTS}/summary/frontier_serving.md",
        picks=report(
            f"{RESULTS}/summary/picks.csv",
            caption="../report/tables/picks.rst",
            category="summary",
            subcategory="Tables",
        ),
        picks_md=f"{RESULTS}/summary/picks.md",
        frontier_hosts=f"{RESULTS}/summary/frontier_latency_by_host.csv",
        frontier_hosts_md=f"{RESULTS}/summary/frontier_latency_by_host.md",
        comparability=report(
            f"{RESULTS}/summary/comparability.csv",
            caption="../report/tables/comparability.rst",
            category="summary",
            subcategory="Tables",
        ),
        comparability_md=f"{RESULTS}/summary/comparability.md",
    log:
        f"{RESULTS}/summary/logs/summary.log",
    benchmark:
        f"{RESULTS}/summary/benchmarks/summary.tsv"
    conda:
        "../envs/analysis.yaml"
    params:
        python=PYTHON["analysis"],
        out_dir=lambda w, output: os.path.dirname(output.runs),
    shell:
        "{params.python:q} scripts/summary.py --runs {input.runs:q} "
        "--out-dir {params.out_dir:q} > {log:q} 2>&1"


rule catalog:
    input:
        metrics=[
            path
            for study in config["studies"]
            for path in study_metrics(study) + imported_metrics(RESULTS, study)
        ],
        runtimes=f"{RESULTS}/summary/runtimes.csv",
        runs=f"{RESULTS}/summary/runs.csv",
        code=plan.code("catalog.py", "load.py", "runtimes.py"),
    output:
        f"{RESULTS}/summary/catalog.parquet",
    log:
        f"{RESULTS}/summary/logs/catalog.log",
    conda:
        "../envs/analysis.yaml"
    params:
        python=PYTHON["analysis"],
    shell:
        "{params.python:q} scripts/catalog.py --metrics {input.metrics:q} "
        "--runtimes {input.runtimes:q} --runs {input.runs:q} --output {output:q} > {log:q} 2>&1"


# Runs last (every other target is its input) and reads the benchmark records in the folders.
rule timings:
    input:
        finished=finished_targets(),
        code=plan.code("timings.py"),
    output:
        by_rule=report(
            f"{RESULTS}/summary/timings_by_rule.csv",
            caption="../report/tables/timings.rst",
            category="summary",
            subcategory="Where the time went",
        ),
        by_study=report(
            f"{RESULTS}/summary/timings_by_study.csv",
            caption="../report/tables/timings.rst",
            category="summary",
            subcategory="Where the time went",
        ),
        md=f"{RESULTS}/summary/timings.md",
    log:
        f"{RESULTS}/summary/logs/timings.log",
    conda:
        "../envs/analysis.yaml"
    params:
        python=PYTHON["analysis"],
        out_dir=lambda w, output: os.path.dirname(output.md),
        results=lambda w, output: os.path.dirname(os.path.dirname(output.md)),
        folders=benchmark_folders(),
    shell:
        "{params.python:q} scripts/timings.py --folders {params.folders:q} "
        "--results-dir {params.results:q} "
        "--out-dir {params.out_dir:q} > {log:q} 2>&1"
