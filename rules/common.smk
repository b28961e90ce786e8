"""Paths and input functions shared by the rules."""

import json
import re

from tradeoffs import registry
from tradeoffs.analysis.plan import analysis_targets
from tradeoffs.config import all_runs, dataset_spec, study_runs
from tradeoffs.corrupted_sets import corrupted_sets
from tradeoffs.data.sources import archive_names

DATA = config["data_dir"]
RESULTS = config["results_dir"]
RUN = f"{RESULTS}/{{study}}/runs/{{dataset}}/{{model}}/{{act}}/{{precision}}/{{backend}}/seed{{seed}}"
ENVS = {
    "torch": "../envs/torch.yaml",
    "numba": "../envs/numba.yaml",
    "keras": "../envs/tensorflow.yaml",
}


wildcard_constraints:
    study=r"[^/]+",
    dataset=r"[^/]+",
    model=r"[^/]+",
    act=r"[^/]+",
    precision=r"[^/]+",
    backend=r"[^/]+",
    seed=r"\d+",
    eval_dataset=r"[^/]+",


# The datasets the prepare rule makes (built-in and configured); a corrupted set's name
# `{dataset}-c-{corruption}-{severity}` never matches, so the corrupt rule makes those.
PREPARED_DATASETS = "|".join(
    re.escape(name)
    for name in sorted(set(registry.BUILTIN_DATASETS) | set(config["datasets"]))
)


def prepared(dataset):
    """The file that marks a dataset as prepared (written last)."""
    return f"{DATA}/prepared/{dataset}/meta.json"


def download_files(wildcards):
    """The archives a dataset is prepared from (none for digits, synthetic, imagefolder)."""
    spec = dataset_spec(config, wildcards.dataset)
    return [
        f"{DATA}/downloads/{spec['format']}/{name}"
        for name in archive_names(spec["format"])
    ]


def framework(wildcards):
    return registry.BACKENDS[wildcards.backend].framework


def env_for(wildcards):
    return ENVS[framework(wildcards)]


def run_dir(wildcards):
    return RUN.format(**wildcards)


def model_file(wildcards):
    return f"{run_dir(wildcards)}/{registry.BACKENDS[wildcards.backend].model_file}"


def run_args(wildcards):
    """The identity arguments every per-run script takes."""
    skip = (
        "--skip-unavailable" if config["skip_unavailable"] else "--no-skip-unavailable"
    )
    return (
        f"--study {wildcards.study} --dataset {wildcards.dataset} --model {wildcards.model} "
        f"--act {wildcards.act} --precision {wildcards.precision} "
        f"--backend {wildcards.backend} --seed {wildcards.seed} "
        f"--run-dir {run_dir(wildcards)} --data-dir {DATA} {skip}"
    )


def study_json(wildcards):
    return json.dumps(config["studies"][wildcards.study], sort_keys=True)


def gpus(wildcards):
    return int(registry.BACKENDS[wildcards.backend].device != "cpu")


def eval_datasets(wildcards):
    """The run's own dataset first, then the study's `eval_on` datasets."""
    return [wildcards.dataset, *config["studies"][wildcards.study]["eval_on"]]


def corrupted_evals(wildcards):
    """The corrupted test sets of the run's dataset the study evaluates this run on."""
    study = config["studies"][wildcards.study]
    return corrupted_sets(study, wildcards.dataset, wildcards.model)


def corrupted_data(wildcards):
    """The prepared corrupted sets an evaluate_corrupted job reads."""
    return [prepared(name) for name in corrupted_evals(wildcards)]


def metrics_inputs(wildcards):
    run = run_dir(wildcards)
    return {
        "train": f"{run}/train.json",
        "history": f"{run}/history.csv",
        "evals": [f"{run}/eval/{name}.json" for name in eval_datasets(wildcards)],
        "corrupted": (
            [f"{run}/eval_corrupted.json"] if corrupted_evals(wildcards) else []
        ),
        "bench": f"{run}/bench.json",
    }


def study_metrics(study):
    return [f"{run.path(RESULTS)}/metrics.json" for run in study_runs(config, study)]


def all_targets():
    """Every run's metrics, every study's tables and figures, the cross-study summary."""
    metrics = [f"{run.path(RESULTS)}/metrics.json" for run in all_runs(config)]
    return metrics + analysis_targets(config, RESULTS)
