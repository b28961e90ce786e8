"""Serving under load (a study's `serving:`): per run and runtime serving/{runtime}.json, per
study the serving tables and the latency-against-offered-load figure. Defined only when a study
has `serving:`: a rule that can make no file would still be matched against every run file the
plan looks up."""

if SERVED:

    use rule run_step as serving with:
        input:
            model=model_file,
            record=f"{RUN}/train.json",
            bench=BENCH,
            data=prepared("{dataset}"),
        output:
            record=SERVING,
        log:
            f"{RUN}/logs/serving_{{runtime}}.log",
        benchmark:
            f"{RUN}/benchmarks/serving_{{runtime}}.tsv"
        priority: served_first
        params:
            script="serving",
            options=["--runtime", "{runtime}", "--output", SERVING],

    rule serving_table:
        input:
            serving=lambda w: study_serving(w.study),
            code=plan.code("serving.py", "figures/serving.py"),
        output:
            serving=f"{RESULTS}/{{study}}/tables/serving.csv",
            serving_md=report(
                f"{RESULTS}/{{study}}/tables/serving.md",
                caption="../report/tables/serving.rst",
                category="{study}",
                subcategory="Tables",
            ),
            levels=f"{RESULTS}/{{study}}/tables/serving_levels.csv",
            figure=report(
                f"{RESULTS}/{{study}}/figures/serving_latency.png",
                caption="../report/figures/serving_latency.rst",
                category="{study}",
                subcategory="Figures",
            ),
        log:
            f"{RESULTS}/{{study}}/logs/serving_table.log",
        conda:
            "../envs/analysis.yaml"
        params:
            python=PYTHON["analysis"],
            out_dir=lambda w, output: os.path.dirname(output.serving),
            title=lambda w: f"{w.study}: ",
        shell:
            "{params.python:q} scripts/serving_table.py --serving {input.serving:q} "
            "--out-dir {params.out_dir:q} --figure {output.figure:q} --title {params.title:q} "
            "> {log:q} 2>&1"
