"""What the aggregate and figure rules read and write: paths only, no plotting imports, so the
Snakefile plans them in milliseconds."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from tradeoffs.analysis.figures import FIGURES, STUDY_FIGURES, figures_for, summary_figures
from tradeoffs.config import study_runs
from tradeoffs.hosts import imported_hosts

ANALYSIS = Path(__file__).parent
# Costs the summary draws a frontier against, with the column each is read from. Model size is
# the footprint at the run's precision where the engine estimated one, else the in-memory size.
# `server_qps` (requests/s sustained within the serving p99 bound) is a cost where more is better.
# Here rather than in frontier.py: planning reads it and must not import pandas.
COSTS = {"latency": "latency_ms_p50", "size": "model_size_mb", "serving": "server_qps"}
STUDY_TABLES = (
    "runs.csv",
    "runs.md",
    "summary.csv",
    "summary.md",
    "comparison.md",
    "robustness.csv",
    "robustness.md",
)
SUMMARY_TABLES = (
    "runs.csv",
    "summary.csv",
    "summary.md",
    *(f"frontier_{name}.{ext}" for name in COSTS for ext in ("csv", "md")),
    "picks.csv",
    "picks.md",
    "frontier_latency_by_host.csv",
    "frontier_latency_by_host.md",
    "comparability.csv",
    "comparability.md",
)


def code(*modules: str) -> list[str]:
    """Library modules as rule inputs: editing one reruns the rules that list it."""
    return [str(ANALYSIS / module) for module in modules]


def figures_code(names: Sequence[str]) -> list[str]:
    """The modules that draw these figures and the style module: editing one reruns the
    figures job, which redraws only the figures it draws (`figures.redraw`)."""
    modules = dict.fromkeys(str(FIGURES[name].source) for name in names)
    return [*modules, *code("style.py")]


def figures_params(names: Sequence[str]) -> str:
    """What the figures draw, as a rule parameter: changing a figure's options reruns the job
    (which redraws that figure alone)."""
    return repr([(name, FIGURES[name].function, FIGURES[name].options) for name in names])


def figure_sets(config: Mapping) -> dict[str, tuple[tuple[str, ...], list[str]]]:
    """Each distinct set of study figures in this config, named (a study's seed name, or
    `default`, with `_corrupted` when it has corrupted test sets), with its studies: rule
    `figures_{name}` draws a study's whole set in one job."""
    sets: dict[str, tuple[tuple[str, ...], list[str]]] = {}
    for study in config["studies"]:
        corrupted = _corrupted(config, study)
        name = (study if study in STUDY_FIGURES else "default") + ("_corrupted" * corrupted)
        sets.setdefault(name, (figures_for(study, corrupted), []))[1].append(study)
    return sets


def figures_inputs(
    config: Mapping, results: str, names: Sequence[str], skipped: Collection[str] = ()
) -> Callable[[Any], dict]:
    """The input function of a study's figures job: runs.csv, the record files its figures
    read (history.csv, the eval CSVs) of the runs whose backend is not `skipped` here (the
    figures draw completed runs only), their code."""
    needs = {need for name in names for need in FIGURES[name].needs}

    def inputs(wildcards: Any) -> dict[str, Any]:
        runs = [r for r in study_runs(config, wildcards.study) if r.backend not in skipped]
        records = {
            "history": [f"{run.folder(results)}/history.csv" for run in runs],
            "eval": [
                f"{run.folder(results)}/eval/{run.dataset}_{kind}.csv"
                for run in runs
                for kind in ("confusion", "report")
            ],
        }
        return {
            "runs": f"{results}/{wildcards.study}/tables/runs.csv",
            **{need: records[need] if need in needs else [] for need in records},
            "code": figures_code(names),
        }

    return inputs


def _corrupted(config: Mapping, study: str) -> bool:
    return bool(config["studies"][study].get("eval_on_corrupted"))


def figures_of(config: Mapping, study: str) -> tuple[str, ...]:
    """The figures one configured study gets."""
    return figures_for(study, _corrupted(config, study))


def cross_study_figures(config: Mapping) -> tuple[str, ...]:
    """The summary figures of this config (and of the machines imported into its results)."""
    corrupted = any(_corrupted(config, s) for s in config["studies"])
    return summary_figures(corrupted, bool(imported_hosts(config["results_dir"])))


def analysis_targets(config: Mapping, results: str) -> list[str]:
    """Every study's tables and figures, and the cross-study tables and figures."""
    studies = config["studies"]
    tables = [f"{results}/{s}/tables/{t}" for s in studies for t in STUDY_TABLES]
    tables += [f"{results}/{s}/findings.{ext}" for s in studies for ext in ("md", "html")]
    figures = [
        f"{results}/{s}/figures/{f}.png"
        for s in studies
        for f in figures_for(s, _corrupted(config, s))
    ]
    summary = [f"{results}/summary/{t}" for t in SUMMARY_TABLES]
    summary += [f"{results}/summary/figures/{f}.png" for f in cross_study_figures(config)]
    return tables + figures + summary
