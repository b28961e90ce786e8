"""Figures: one rule per figure, drawn from the tables and run records only (no retraining).

Each rule's inputs are the records it reads plus the module that draws it and the style module,
so editing one figure's module redraws only the figures that module draws, and a change to a
figure's options in the registry (the rule's params) reruns that figure alone.
"""

from tradeoffs.analysis import plan

for _name in plan.study_figures(config):

    rule:
        name:
            f"figure_{_name}"
        input:
            unpack(plan.figure_inputs(config, RESULTS, _name)),
        output:
            report(
                f"{RESULTS}/{{study}}/figures/{_name}.png",
                caption=f"../report/figures/{_name}.rst",
                category="{study}",
                subcategory="Figures",
            ),
        log:
            f"{RESULTS}/{{study}}/logs/figure_{_name}.log",
        benchmark:
            f"{RESULTS}/{{study}}/benchmarks/figure_{_name}.tsv"
        conda:
            "../envs/analysis.yaml"
        params:
            python=PYTHON["analysis"],
            figure=_name,
            title=lambda w: f"{w.study}: ",
            spec=plan.figure_params(_name),
        shell:
            "{params.python:q} scripts/figures.py --figure {params.figure:q} --runs {input.runs:q} "
            "--title {params.title:q} --output {output:q} > {log:q} 2>&1"


for _name in plan.cross_study_figures(config):

    rule:
        name:
            f"figure_{_name}"
        input:
            runs=f"{RESULTS}/summary/runs.csv",
            code=plan.figure_code(_name),
        output:
            report(
                f"{RESULTS}/summary/figures/{_name}.png",
                caption=f"../report/figures/{_name}.rst",
                category="summary",
                subcategory="Figures",
            ),
        log:
            f"{RESULTS}/summary/logs/figure_{_name}.log",
        benchmark:
            f"{RESULTS}/summary/benchmarks/figure_{_name}.tsv"
        conda:
            "../envs/analysis.yaml"
        params:
            python=PYTHON["analysis"],
            figure=_name,
            title="All studies: ",
            spec=plan.figure_params(_name),
        shell:
            "{params.python:q} scripts/figures.py --figure {params.figure:q} --runs {input.runs:q} "
            "--title {params.title:q} --output {output:q} > {log:q} 2>&1"
