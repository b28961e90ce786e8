"""A run's evaluation records on one dataset: eval/{dataset}.json, the confusion matrix and
the per-class report. The train job writes them for the run's own dataset with its trained
model still warm in the process; the evaluate job for every other (`eval_on`) dataset."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tradeoffs import engines, io, records
from tradeoffs.classmap import class_alignment
from tradeoffs.evaluation import classification_metrics, relabel
from tradeoffs.runspec import RunSpec


def write_evaluation(spec: RunSpec, dataset: str) -> dict[str, Any]:
    """Evaluate the trained run on `dataset`'s test split and write its three records; a run
    that was skipped or failed gets records that say so. Raises ClassMapError when the
    dataset's classes cannot be matched to the training classes, DataError for bad data."""
    classes, indices = class_alignment(spec, dataset)
    status, reason = records.upstream_status(spec)
    if status == "ok":
        predictions = relabel(engines.load(spec.framework).predict(spec, dataset), indices)
        summary, confusion, report = classification_metrics(predictions, classes)
        summary.update(status="ok", reason=None)
    else:
        summary = {"status": status, "reason": reason, "classes": classes}
        confusion = pd.DataFrame(index=pd.Index([], name="true"), columns=classes)
        report = pd.DataFrame(columns=["class", "precision", "recall", "f1", "support"])
    summary["dataset"] = dataset
    out = spec.run_dir / "eval"
    with io.atomic_path(out / f"{dataset}_confusion.csv") as tmp:
        confusion.to_csv(tmp)
    with io.atomic_path(out / f"{dataset}_report.csv") as tmp:
        report.to_csv(tmp, index=False)
    io.write_json(out / f"{dataset}.json", summary)
    return summary
