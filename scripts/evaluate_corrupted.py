"""Evaluate one trained run on its corrupted test sets: eval_corrupted.json, {set: record} with
the summary keys of eval/{d}.json (one engine start-up for every set, no per-class tables),
and every set's per-example predictions in eval_corrupted_predictions.npz beside it."""

import argparse
import sys
from pathlib import Path

from tradeoffs import engines, io, per_example, records
from tradeoffs.data.prepared import load_meta
from tradeoffs.evaluation import classification_metrics
from tradeoffs.fileformat import UnexpectedFormatError
from tradeoffs.runspec import add_run_arguments, spec_from_args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_run_arguments(parser)
    parser.add_argument("--eval-dataset", nargs="+", required=True, help="corrupted sets")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    spec = spec_from_args(args)
    status, reason = records.upstream_status(spec)
    results, examples = {}, {}
    for dataset in args.eval_dataset:
        classes = load_meta(spec.prepared_dir(dataset))["classes"]
        if status == "ok":
            try:
                predictions = engines.load(spec.framework).predict(spec, dataset)
            except UnexpectedFormatError as error:
                sys.exit(f"evaluate on {dataset} failed: {error}")
            summary = {**classification_metrics(predictions, classes)[0], "reason": None}
            examples[dataset] = per_example.from_probs(predictions.probs, predictions.labels)
        else:
            summary = {"reason": reason, "classes": classes}
            examples[dataset] = per_example.empty()
        results[dataset] = {**summary, "status": status, "dataset": dataset}
        print(f"{dataset}: {results[dataset]}")
    path = args.output.with_name(per_example.CORRUPTED_FILE)
    digest = per_example.write_sets(path, examples)
    for record in results.values():
        record.update(predictions=path.name, predictions_sha256=digest)
    io.write_json(args.output, results)


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
