"""Evaluate one trained run on one or more datasets: per dataset eval/{d}.json, the confusion
matrix and the per-class report (several datasets share one engine start-up)."""

import argparse

import pandas as pd

from tradeoffs import engines, io, records
from tradeoffs.data.prepared import load_meta
from tradeoffs.evaluation import classification_metrics
from tradeoffs.runspec import RunSpec, add_run_arguments, spec_from_args


def evaluate(spec: RunSpec, dataset: str, status: str, reason: str | None) -> None:
    out = spec.run_dir / "eval"
    classes = load_meta(spec.prepared_dir(dataset))["classes"]
    if status == "ok":
        predictions = engines.load(spec.framework).predict(spec, dataset)
        summary, confusion, report = classification_metrics(predictions, classes)
        summary.update(status="ok", reason=None)
    else:
        summary = {"status": status, "reason": reason, "classes": classes}
        confusion = pd.DataFrame(index=pd.Index([], name="true"), columns=classes)
        report = pd.DataFrame(columns=["class", "precision", "recall", "f1", "support"])
    summary["dataset"] = dataset
    with io.atomic_path(out / f"{dataset}_confusion.csv") as tmp:
        confusion.to_csv(tmp)
    with io.atomic_path(out / f"{dataset}_report.csv") as tmp:
        report.to_csv(tmp, index=False)
    io.write_json(out / f"{dataset}.json", summary)
    print(f"{dataset}: {summary}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_run_arguments(parser)
    parser.add_argument("--eval-dataset", nargs="+", required=True)
    args = parser.parse_args()
    spec = spec_from_args(args)
    status, reason = records.upstream_status(spec)
    for dataset in args.eval_dataset:
        evaluate(spec, dataset, status, reason)


if __name__ == "__main__":
    main()
