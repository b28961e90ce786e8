"""Paths and input functions shared by the rules."""

import functools
import inspect
import json
import re
import shlex

from snakemake.common import overwrite_function_params
from snakemake.io import AnnotatedString, _IOFile
from snakemake.settings.types import DeploymentMethod

from tradeoffs import cluster, registry
from tradeoffs.analysis.plan import analysis_targets, cross_study_figures, figures_of
from tradeoffs.availability import absent_device
from tradeoffs.config import all_runs, dataset_spec, run_study_config, study_runs
from tradeoffs.identity import WILDCARD_CONSTRAINTS, RunId, path_pattern
from tradeoffs.corrupted_sets import corrupted_sets
from tradeoffs.data.integrity import source_digest
from tradeoffs.data.sources import archive_names
from tradeoffs.interpreters import ENV_FILES, interpreters
from tradeoffs.runtimes import DEFAULT as DEFAULT_RUNTIME
from tradeoffs.runtimes import RUNTIMES
from tradeoffs.runtimes import runtimes_for

DATA = config["data_dir"]
RESULTS = config["results_dir"]
RUN = path_pattern(RESULTS)
# A run's record of one runtime's benchmark and of its serving run. Params name them as
# patterns too (Snakemake fills in the wildcards): no function to call for each job.
BENCH = f"{RUN}/bench/{{runtime}}.json"
SERVING = f"{RUN}/serving/{{runtime}}.json"
ENVS = {framework: f"../envs/{name}" for framework, name in ENV_FILES.items()}
CONDA = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
try:
    PYTHON = interpreters(config["python"], workflow.basedir, CONDA)
    # On SLURM the nodes' shape decides what can run: GPU backends on a cluster without GPUs
    # get their skip record on the submitting node, without a job (rule skip_run).
    NODES = (
        cluster.read_nodes(config["cluster"])
        if config["cluster"]["scheduler"] == "slurm"
        else None
    )
except ConfigError as error:
    sys.exit(f"Config error:\n{error}")


def unavailable_backends():
    """The study backends no job here can use, with why. On SLURM: the GPU backends of a
    cluster without GPU nodes (sinfo). Locally: those whose device this host certainly lacks.
    Their runs get skip records from rule skip_run (rules/skip.smk), one light job a run.
    """
    used = {run.backend for run in all_runs(config)}
    if NODES is not None:
        if cluster.has_gpus(NODES):
            return {}
        reason = "the cluster has no GPU node (sinfo lists no gres/gpu)"
        return {b: reason for b in used if registry.BACKENDS[b].device != "cpu"}
    absent = {b: absent_device(registry.BACKENDS[b].device) for b in sorted(used)}
    return {b: f"{b}: {reason}" for b, reason in absent.items() if reason}


UNAVAILABLE = unavailable_backends()


def one_of(names):
    """A wildcard constraint matching exactly these names (nothing when there are none)."""
    return "|".join(map(re.escape, sorted(names))) or "(?!)"


def usable_backends(framework=None):
    """The backends (of `framework`) whose runs get train, evaluate and benchmark jobs: the
    others' runs match only rule skip_run's outputs, so planning builds one job per file.
    """
    return one_of(
        name
        for name, backend in registry.BACKENDS.items()
        if name not in UNAVAILABLE and framework in (None, backend.framework)
    )


wildcard_constraints:
    **WILDCARD_CONSTRAINTS,
    eval_dataset=r"[^/]+",
    runtime=r"[^/]+",


# The datasets the prepare rule makes (built-in and configured); a corrupted set's name
# `{dataset}-c-{corruption}-{severity}` never matches, so the corrupt rule makes those.
PREPARED_DATASETS = "|".join(
    re.escape(name)
    for name in sorted(set(registry.BUILTIN_DATASETS) | set(config["datasets"]))
)


def prepared(dataset):
    """The file that marks a dataset as prepared (written last); `dataset` may be a
    `{wildcard}`, which makes it a pattern for a rule's input."""
    return f"{DATA}/prepared/{dataset}/meta.json"


def download_files(wildcards):
    """The archives a dataset is prepared from (none for digits, synthetic, imagefolder)."""
    spec = dataset_spec(config, wildcards.dataset)
    return [
        f"{DATA}/downloads/{spec['format']}/{name}"
        for name in archive_names(spec["format"])
    ]


def dataset_sources(wildcards):
    """A digest of an imagefolder's file list with sizes and modification times: as a param
    of prepare, a changed folder makes prepare out of date."""
    return source_digest(dataset_spec(config, wildcards.dataset)) or "none"


def framework(wildcards):
    return registry.BACKENDS[wildcards.backend].framework


def env_for(wildcards):
    return ENVS[framework(wildcards)]


def python_for(wildcards):
    """The interpreter of the run's framework (config `python:`)."""
    return PYTHON[framework(wildcards)]


def run_dir(wildcards):
    return RUN.format(**wildcards)


def model_file(wildcards):
    return f"{run_dir(wildcards)}/{registry.BACKENDS[wildcards.backend].model_file}"


def run_args(wildcards):
    """The arguments every per-run script takes (`runspec.add_run_arguments`): the run's
    identity and folders, and its study's config as the run's model sees it (its recipe
    merged into `train`), quoted for the shell (the rules insert them as they are)."""
    return _run_args(RunId.of(wildcards))


def whole_study_json(wildcards):
    """The study's whole config (every model's recipe), for rules over all of its runs."""
    return json.dumps(config["studies"][wildcards.study], sort_keys=True)


# Planning calls run_args once per job, and a run has several jobs: computed once per run.
@functools.cache
def _run_args(run):
    skip = (
        "--skip-unavailable" if config["skip_unavailable"] else "--no-skip-unavailable"
    )
    return shlex.join(
        [
            *run.args(),
            *("--run-dir", run.folder(RESULTS), "--data-dir", DATA, skip),
            *("--study-json", _study_json(run.study, run.model)),
        ]
    )


@functools.cache
def _study_json(study, model):
    spec = run_study_config(config["studies"][study], model)
    return json.dumps(spec, sort_keys=True)


def gpus(wildcards):
    return int(registry.BACKENDS[wildcards.backend].device != "cpu")


def eval_datasets(wildcards):
    """The run's own dataset first, then the study's `eval_on` datasets."""
    eval_on = config["studies"][wildcards.study]["eval_on"]
    return list(dict.fromkeys([wildcards.dataset, *eval_on]))


def corrupted_evals(wildcards):
    """The corrupted test sets of the run's dataset the study evaluates this run on."""
    return list(_corrupted_evals(wildcards.study, wildcards.dataset, wildcards.model))


@functools.cache
def _corrupted_evals(study, dataset, model):
    return tuple(corrupted_sets(config["studies"][study], dataset, model))


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
        "bench": f"{run}/bench/{DEFAULT_RUNTIME}.json",
    }


def study_metrics(study):
    return [f"{run.folder(RESULTS)}/metrics.json" for run in study_runs(config, study)]


def study_bench(study):
    """Every run's bench/{runtime}.json: the study's runtimes its framework offers."""
    return [
        f"{run.folder(RESULTS)}/bench/{runtime}.json"
        for run in study_runs(config, study)
        for runtime in run_runtimes(config["studies"][study], run.backend)
    ]


def study_serving(study):
    """Every served run's serving/{runtime}.json (a study with `serving:`; runs of an
    unavailable backend are not served)."""
    spec = config["studies"][study]
    if "serving" not in spec:
        return []
    return [
        f"{run.folder(RESULTS)}/serving/{runtime}.json"
        for run in study_runs(config, study)
        if run.backend not in UNAVAILABLE
        for runtime in run_runtimes(spec, run.backend)
    ]


def served_first(wildcards):
    """Snakemake priority of a run's train, benchmark and serving jobs: 1 in a study with
    `serving:` (after training its run still waits on a benchmark, then the run's longest job,
    serving), else 0. Started last, that chain leaves a core idle at the end of the run.
    """
    return int("serving" in config["studies"][wildcards.study])


# The studies with `serving:` (rules/serving.smk has its rules only when there are some).
SERVED = [study for study, spec in config["studies"].items() if "serving" in spec]


def serving_targets():
    """The serving tables and figure of every study with `serving:`."""
    files = ("tables/serving.csv", "tables/serving.md", "figures/serving_latency.png")
    return [f"{RESULTS}/{s}/{f}" for s in SERVED for f in files]


def run_runtimes(study_spec, backend):
    """The runtimes a run of `backend` is benchmarked under (eager first)."""
    return runtimes_for(registry.BACKENDS[backend].framework, study_spec["runtimes"])


def benchmark_folders():
    """The folders whose `benchmarks/` hold the jobs' `benchmark:` records (Snakemake writes
    them): every run's, every study's (tables, figures) and the summary's."""
    runs = [run.folder(RESULTS) for run in all_runs(config)]
    studies = [f"{RESULTS}/{study}" for study in config["studies"]]
    return runs + studies + [f"{RESULTS}/summary"]


def finished_targets():
    """Every study's tables and figures, the cross-study summary. Every run's metrics.json is
    an input of its study's tables, so it is not listed again: rule all and rule timings, whose
    inputs these are, would otherwise plan (and print) every run's file twice more."""
    return analysis_targets(config, RESULTS) + runtime_targets() + serving_targets()


def all_targets():
    """The finished targets and where their time went."""
    return finished_targets() + [f"{RESULTS}/summary/timings.md"]


def runtime_targets():
    """Every study's runtime tables and throughput figure, and the runtime frontier."""
    tables = ("runtimes.csv", "runtimes.md", "sweep.csv")
    studies = [f"{RESULTS}/{s}/tables/{t}" for s in config["studies"] for t in tables]
    figures = [f"{RESULTS}/{s}/figures/throughput_batch.png" for s in config["studies"]]
    summary = ("runtimes.csv", "frontier_runtimes.csv", "frontier_runtimes.md")
    summary += ("figures/frontier_runtimes.png", "catalog.parquet")
    return studies + figures + [f"{RESULTS}/summary/{t}" for t in summary]


# A study's `pretrained:` models (rules/pretrained.smk has its rules only when there are some).
PRETRAINED = sorted(
    {
        name
        for study in config["studies"].values()
        for name in study.get("pretrained", {})
    }
)


def pretrained_file(wildcards):
    return config["studies"][wildcards.study]["pretrained"][wildcards.model]["file"]


def figure_outputs(folder, names, category):
    """A figures job's PNGs, each in the report with its caption, kept when the job reruns."""
    outputs = {}
    for name in names:
        png = report(
            f"{folder}/figures/{name}.png",
            caption=f"../report/figures/{name}.rst",
            category=category,
            subcategory="Figures",
        )
        outputs[name] = update(png)
    return outputs


def state_signatures(rules):
    """Give each function of the rules (input, params, priority, conda) its signature once:
    Snakemake otherwise reads it with inspect.signature up to three times a call, the largest
    part of what such a function costs each planned job."""
    for definition in rules:
        items = [*definition.input, *definition.params, definition.priority]
        for item in [*items, definition.conda_env]:
            if isinstance(item, _IOFile) and item.is_callable():
                item = item._file.callable  # a function in a flag: unpack(...)
            elif isinstance(item, AnnotatedString):
                item = item.callable
            if callable(item):
                overwrite_function_params(item, inspect.signature(item).parameters)
