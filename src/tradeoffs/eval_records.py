"""A run's evaluation records on one dataset: eval/{dataset}.json, the confusion matrix, the
per-class report and the per-example predictions (`tradeoffs.per_example`). The train job
writes them for the run's own dataset with its trained model still warm in the process; the
evaluate job for every other (`eval_on`) dataset."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tradeoffs import engines, io, per_example, records
from tradeoffs.classmap import class_alignment
from tradeoffs.evaluation import classification_metrics, relabel
from tradeoffs.runspec import RunSpec


def write_evaluation(spec: RunSpec, dataset: str) -> dict[str, Any]:
    """Evaluate the trained run on `dataset`'s test split and write its four records; a run
    that was skipped or failed gets records that say so. Raises ClassMapError when the
    dataset's classes cannot be matched to the training classes, DataError for bad data."""
    classes, indices = class_alignment(spec, dataset)
    status, reason = records.upstream_status(spec)
    if status == "ok":
        predictions = relabel(engines.load(spec.framework).predict(spec, dataset), indices)
        summary, confusion, report = classification_metrics(predictions, classes)
        summary.update(status="ok", reason=None)
        examples = per_example.from_probs(predictions.probs, predictions.labels)
    else:
        summary = {"status": status, "reason": reason, "classes": classes}
        confusion = pd.DataFrame(index=pd.Index([], name="true"), columns=classes)
        report = pd.DataFrame(columns=["class", "precision", "recall", "f1", "support"])
        examples = per_example.empty()
    summary["dataset"] = dataset
    out = spec.run_dir / "eval"
    name = f"{dataset}{per_example.SUFFIX}"
    summary.update(predictions=name, predictions_sha256=per_example.write(out / name, examples))
    with io.atomic_path(out / f"{dataset}_confusion.csv") as tmp:
        confusion.to_csv(tmp)
    with io.atomic_path(out / f"{dataset}_report.csv") as tmp:
        report.to_csv(tmp, index=False)
    io.write_json(out / f"{dataset}.json", summary)
    return summary
