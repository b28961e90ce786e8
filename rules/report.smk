"""Figures: one rule per figure, drawn from the tables and run records only (no retraining).

Each rule's inputs are the records it reads plus the module that draws it and the style module,
so editing one figure's module redraws only the figures that module draws, and a change to a
figure's options in the registry (the rule's params) reruns that figure alone.
"""

from tradeoffs.analysis.figures import FIGURES, SUMMARY_FIGURES, figures_for


def figure_inputs(name):
    """The input function of a study figure: runs.csv, record files it needs, its code."""
    spec = FIGURES[name]

    def inputs(wildcards):
        runs = study_runs(config, wildcards.study)
        records = {
            "history": [f"{run.path(RESULTS)}/history.csv" for run in runs],
            "eval": [
                f"{run.path(RESULTS)}/eval/{run.dataset}_{kind}.csv"
                for run in runs
                for kind in ("confusion", "report")
            ],
        }
        return {
            "runs": f"{RESULTS}/{wildcards.study}/tables/runs.csv",
            "records": [path for need in spec.needs for path in records[need]],
            "code": [str(spec.source), f"{ANALYSIS}/style.py"],
        }

    return inputs


def figure_rule_params(name):
    return repr((FIGURES[name].function, FIGURES[name].options))


for _name in sorted(
    {name for study in config["studies"] for name in figures_for(study)}
):

    rule:
        name:
            f"figure_{_name}"
        input:
            unpack(figure_inputs(_name)),
        output:
            report(
                f"{RESULTS}/{{study}}/figures/{_name}.png",
                caption=f"../report/figures/{_name}.rst",
                category="{study}",
                subcategory="Figures",
            ),
        log:
            f"{RESULTS}/{{study}}/logs/figure_{_name}.log",
        conda:
            "../envs/analysis.yaml"
        params:
            figure=_name,
            spec=figure_rule_params(_name),
        shell:
            "python scripts/figures.py --figure {params.figure} --runs {input.runs} "
            "--title '{wildcards.study}: ' --output {output} > {log} 2>&1"


for _name in SUMMARY_FIGURES:

    rule:
        name:
            f"figure_{_name}"
        input:
            runs=f"{RESULTS}/summary/runs.csv",
            code=[str(FIGURES[_name].source), f"{ANALYSIS}/style.py"],
        output:
            report(
                f"{RESULTS}/summary/figures/{_name}.png",
                caption=f"../report/figures/{_name}.rst",
                category="summary",
                subcategory="Figures",
            ),
        log:
            f"{RESULTS}/summary/logs/figure_{_name}.log",
        conda:
            "../envs/analysis.yaml"
        params:
            figure=_name,
            spec=figure_rule_params(_name),
        shell:
            "python scripts/figures.py --figure {params.figure} --runs {input.runs} "
            "--title 'All studies: ' --output {output} > {log} 2>&1"
