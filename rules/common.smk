"""Paths and input functions shared by the rules."""

import json

from tradeoffs import registry
from tradeoffs.analysis.figures import SUMMARY_FIGURES, figures_for
from tradeoffs.analysis.plan import analysis_targets
from tradeoffs.config import all_runs, dataset_spec, run_study_config, study_runs
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
    """The study's config as this run's model sees it (its recipe merged into `train`)."""
    spec = run_study_config(config["studies"][wildcards.study], wildcards.model)
    return json.dumps(spec, sort_keys=True)


def gpus(wildcards):
    return int(registry.BACKENDS[wildcards.backend].device != "cpu")


def eval_datasets(wildcards):
    """The run's own dataset first, then the study's `eval_on` datasets."""
    return [wildcards.dataset, *config["studies"][wildcards.study]["eval_on"]]


def metrics_inputs(wildcards):
    run = run_dir(wildcards)
    return {
        "train": f"{run}/train.json",
        "evals": [f"{run}/eval/{name}.json" for name in eval_datasets(wildcards)],
        "bench": f"{run}/bench.json",
    }


def study_metrics(study):
    return [f"{run.path(RESULTS)}/metrics.json" for run in study_runs(config, study)]


def timing_files():
    """Every job's `benchmark:` record: per run, per study (tables, figures), the summary."""
    files = []
    for run in all_runs(config):
        evals = [run.dataset, *config["studies"][run.study]["eval_on"]]
        steps = ["train", *(f"evaluate_{d}" for d in evals), "benchmark", "metrics"]
        files += [f"{run.path(RESULTS)}/benchmarks/{step}.tsv" for step in steps]
    for study in config["studies"]:
        steps = ["aggregate", *(f"figure_{name}" for name in figures_for(study))]
        files += [f"{RESULTS}/{study}/benchmarks/{step}.tsv" for step in steps]
    steps = ["summary", *(f"figure_{name}" for name in SUMMARY_FIGURES)]
    return files + [f"{RESULTS}/summary/benchmarks/{step}.tsv" for step in steps]


def all_targets():
    """Every run's metrics, every study's tables and figures, the cross-study summary."""
    metrics = [f"{run.path(RESULTS)}/metrics.json" for run in all_runs(config)]
    timings = [f"{RESULTS}/summary/timings.md"]
    return metrics + analysis_targets(config, RESULTS) + timings
