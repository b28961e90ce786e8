"""Figures: one job per study draws all of its figures (one start-up of pandas and matplotlib),
and one job the cross-study figures, from the tables and run records only (no retraining).

Each job's inputs are the records its figures read plus the modules that draw them and the
style module; its outputs are `update()`, so a rerun keeps the PNGs and redraws only those
whose inputs changed (`tradeoffs.analysis.figures.redraw`): editing one figure's module, or
its options in the registry (the rule's params), redraws the figures it draws alone.
"""

from tradeoffs.analysis import plan

for _set, (_names, _studies) in plan.figure_sets(config).items():

    rule:
        name:
            f"figures_{_set}"
        input:
            unpack(plan.figures_inputs(config, RESULTS, _names, UNAVAILABLE)),
        output:
            **figure_outputs(f"{RESULTS}/{{study}}", _names, "{study}"),
        log:
            f"{RESULTS}/{{study}}/logs/figures.log",
        benchmark:
            f"{RESULTS}/{{study}}/benchmarks/figures.tsv"
        wildcard_constraints:
            study=one_of(_studies),
        conda:
            "../envs/analysis.yaml"
        params:
            python=PYTHON["analysis"],
            figures=_names,
            title=lambda w: f"{w.study}: ",
            out_dir=lambda w, output: os.path.dirname(output[0]),
            spec=plan.figures_params(_names),
        shell:
            "{params.python:q} scripts/figures.py --figures {params.figures:q} "
            "--runs {input.runs:q} --history {input.history:q} --eval {input.eval:q} "
            "--title {params.title:q} --out-dir {params.out_dir:q} > {log:q} 2>&1"


rule figures_summary:
    input:
        runs=f"{RESULTS}/summary/runs.csv",
        code=plan.figures_code(plan.cross_study_figures(config)),
    output:
        **figure_outputs(
            f"{RESULTS}/summary", plan.cross_study_figures(config), "summary"
        ),
    log:
        f"{RESULTS}/summary/logs/figures.log",
    benchmark:
        f"{RESULTS}/summary/benchmarks/figures.tsv"
    conda:
        "../envs/analysis.yaml"
    params:
        python=PYTHON["analysis"],
        figures=plan.cross_study_figures(config),
        title="All studies: ",
        out_dir=lambda w, output: os.path.dirname(output[0]),
        spec=plan.figures_params(plan.cross_study_figures(config)),
    shell:
        "{params.python:q} scripts/figures.py --figures {params.figures:q} "
        "--runs {input.runs:q} --title {params.title:q} --out-dir {params.out_dir:q} "
        "> {log:q} 2>&1"
