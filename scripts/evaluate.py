"""Evaluate one trained run on one dataset: eval/{d}.json, the confusion matrix, the report."""

import argparse

import pandas as pd

from tradeoffs import engines, io, records
from tradeoffs.data.prepared import load_meta
from tradeoffs.evaluation import classification_metrics
from tradeoffs.runspec import add_run_arguments, spec_from_args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_run_arguments(parser)
    parser.add_argument("--eval-dataset", required=True)
    args = parser.parse_args()
    spec = spec_from_args(args)
    out = spec.run_dir / "eval"
    classes = load_meta(spec.prepared_dir(args.eval_dataset))["classes"]
    status, reason = records.upstream_status(spec)
    if status == "ok":
        predictions = engines.load(spec.framework).predict(spec, args.eval_dataset)
        summary, confusion, report = classification_metrics(predictions, classes)
        summary.update(status="ok", reason=None)
    else:
        summary = {"status": status, "reason": reason, "classes": classes}
        confusion = pd.DataFrame(index=pd.Index([], name="true"), columns=classes)
        report = pd.DataFrame(columns=["class", "precision", "recall", "f1", "support"])
    summary["dataset"] = args.eval_dataset
    with io.atomic_path(out / f"{args.eval_dataset}_confusion.csv") as tmp:
        confusion.to_csv(tmp)
    with io.atomic_path(out / f"{args.eval_dataset}_report.csv") as tmp:
        report.to_csv(tmp, index=False)
    io.write_json(out / f"{args.eval_dataset}.json", summary)
    print(f"{args.eval_dataset}: {summary}")


if __name__ == "__main__":
    main()
