"""The runtime axis: per study, every run's bench/{runtime}.json as tables and the throughput
figure; across studies, every runtime record and the accuracy-latency frontier per runtime.
"""


rule runtimes_table:
    input:
        bench=lambda w: study_bench(w.study) + imported_bench(RESULTS, w.study),
        code=plan.code("runtimes.py", "accuracy_target.py", "figures/runtimes.py"),
    output:
        runtimes=f"{RESULTS}/{{study}}/tables/runtimes.csv",
        runtimes_md=f"{RESULTS}/{{study}}/tables/runtimes.md",
        sweep=f"{RESULTS}/{{study}}/tables/sweep.csv",
        figure=report(
            f"{RESULTS}/{{study}}/figures/throughput_batch.png",
            caption="../report/figures/throughput_batch.rst",
            category="{study}",
            subcategory="Figures",
        ),
    log:
        f"{RESULTS}/{{study}}/logs/runtimes_table.log",
    conda:
        "../envs/analysis.yaml"
    params:
        python=PYTHON["analysis"],
        out_dir=lambda w, output: os.path.dirname(output.runtimes),
        title=lambda w: f"{w.study}: ",
        study=whole_study_json,
    shell:
        "{params.python:q} scripts/runtimes.py --bench {input.bench:q} --out-dir {params.out_dir:q} "
        "--figure {output.figure:q} --title {params.title:q} --study-json {params.study:q} "
        "> {log:q} 2>&1"


rule runtimes_summary:
    input:
        tables=expand(
            f"{RESULTS}/{{study}}/tables/runtimes.csv", study=config["studies"]
        ),
        code=plan.code("runtimes.py", "frontier.py", "figures/runtimes.py"),
    output:
        runtimes=f"{RESULTS}/summary/runtimes.csv",
        frontier=report(
            f"{RESULTS}/summary/frontier_runtimes.csv",
            caption="../report/tables/frontier_runtimes.rst",
            category="summary",
            subcategory="Tables",
        ),
        frontier_md=f"{RESULTS}/summary/frontier_runtimes.md",
        figure=report(
            f"{RESULTS}/summary/figures/frontier_runtimes.png",
            caption="../report/figures/frontier_runtimes.rst",
            category="summary",
            subcategory="Figures",
        ),
    log:
        f"{RESULTS}/summary/logs/runtimes_summary.log",
    conda:
        "../envs/analysis.yaml"
    params:
        python=PYTHON["analysis"],
        out_dir=lambda w, output: os.path.dirname(output.runtimes),
    shell:
        "{params.python:q} scripts/runtimes_summary.py --tables {input.tables:q} "
        "--out-dir {params.out_dir:q} --figure {output.figure:q} > {log:q} 2>&1"
