"""The evaluate jobs: a trained run on another (`eval_on`) dataset, and on its corrupted test
sets. `write_evaluation` is also the train and import jobs', which evaluate the run's own
dataset with the trained model still warm in the process."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tradeoffs import engines
from tradeoffs.classmap import ClassMapError, class_alignment
from tradeoffs.data import DataError
from tradeoffs.data.prepared import load_meta
from tradeoffs.evaluation import classification_metrics, relabel
from tradeoffs.fileformat import UnexpectedFormatError
from tradeoffs.jobs import JobError
from tradeoffs.records import predictions
from tradeoffs.records.eval import not_run_summary, not_run_tables, write_corrupted, write_eval
from tradeoffs.records.not_run import upstream_status
from tradeoffs.runspec import RunSpec


def write_evaluation(spec: RunSpec, dataset: str) -> dict[str, Any]:
    """Evaluate the trained run on `dataset`'s test split and write its four records; a run
    that was skipped or failed gets records that say so. Raises ClassMapError when the
    dataset's classes cannot be matched to the training classes, DataError for bad data."""
    classes, indices = class_alignment(spec, dataset)
    status, reason = upstream_status(spec)
    if status == "ok":
        found = relabel(engines.load(spec.framework).predict(spec, dataset), indices)
        summary, confusion, report = classification_metrics(found, classes)
        summary.update(status="ok", reason=None)
        examples = predictions.from_probs(found.probs, found.labels)
    else:
        summary = not_run_summary(status, reason, classes)
        confusion, report = not_run_tables(classes)
        examples = predictions.empty()
    return write_eval(spec.run_dir, dataset, summary, confusion, report, examples)


def evaluate(spec: RunSpec, eval_dataset: str) -> None:
    """eval/{eval_dataset}.json and its tables (`write_evaluation`)."""
    try:
        summary = write_evaluation(spec, eval_dataset)
    except (ClassMapError, DataError, UnexpectedFormatError) as error:
        raise JobError(f"evaluate on {eval_dataset} failed: {error}") from None
    print(f"{eval_dataset}: {summary}")


def evaluate_corrupted(spec: RunSpec, eval_datasets: Sequence[str], output: Path) -> None:
    """eval_corrupted.json (`output`) on the corrupted sets `eval_datasets`: one engine start-up
    for every set, no per-class tables."""
    status, reason = upstream_status(spec)
    results, examples = {}, {}
    for dataset in eval_datasets:
        classes = load_meta(spec.prepared_dir(dataset))["classes"]
        if status == "ok":
            try:
                found = engines.load(spec.framework).predict(spec, dataset)
            except UnexpectedFormatError as error:
                raise JobError(f"evaluate on {dataset} failed: {error}") from None
            summary = {**classification_metrics(found, classes)[0], "reason": None}
            examples[dataset] = predictions.from_probs(found.probs, found.labels)
        else:
            summary = {"reason": reason, "classes": classes}
            examples[dataset] = predictions.empty()
        results[dataset] = {**summary, "status": status, "dataset": dataset}
        print(f"{dataset}: {results[dataset]}")
    write_corrupted(output, results, examples)
