"""The train job: train one run, then evaluate it on its own dataset's test split (the model
file, history.csv, train.json, eval/{dataset}.json and its tables). Evaluating here spares every
run a second process that would load its framework and model again; a backend this machine
lacks is recorded as skipped when the config allows it."""

from __future__ import annotations

from tradeoffs import engines
from tradeoffs.availability import unavailable_reason
from tradeoffs.data import DataError
from tradeoffs.jobs import JobError
from tradeoffs.jobs.evaluate import evaluate
from tradeoffs.records.not_run import write_not_run
from tradeoffs.records.provenance import now
from tradeoffs.runspec import RunSpec


def train(spec: RunSpec) -> None:
    """Train `spec` (or record it as skipped), then evaluate it on its own dataset."""
    started = now()
    reason = unavailable_reason(spec.backend)
    if reason:
        if not spec.skip_unavailable:
            raise JobError(f"{reason}. Set skip_unavailable: true to record it as skipped instead.")
        print(f"skipped: {reason}")
        write_not_run(spec, "skipped", reason, started)
    else:
        try:
            engines.load(spec.framework).train(spec)
        except DataError as error:
            raise JobError(f"train failed: {error}") from None
    evaluate(spec, spec.dataset)
