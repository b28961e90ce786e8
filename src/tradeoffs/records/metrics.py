"""metrics.json: the stage records (train.json, eval/*.json, bench/eager.json) joined into the
flat keys docs/architecture.md ("Metrics") and `tradeoffs/schemas/metrics.schema.json` define,
refusing a key two records set, and checked against the schema. A run that is not `ok` still
gets every key, null, with its `reason`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema

from tradeoffs import fingerprint, schemas
from tradeoffs.records.nulls import measured
from tradeoffs.records.provenance import now, provenance
from tradeoffs.registry import parse_corrupted
from tradeoffs.runspec import RunSpec

# metrics.json's layout version: the schema's, so a record of another layout is invalid on read.
RECORD_LAYOUT = schemas.metrics_schema()["properties"]["record_layout"]["const"]


class MetricsConflictError(ValueError):
    """Two records of one run set the same metrics key: one of them is measuring the wrong
    thing, and a merge must not pick a winner silently."""


SHARED_KEYS = ("status", "reason")  # every stage reports them; the merge takes the worst
EVAL_KEYS = ("acc", "top5", "loss", "ece", "mean_confidence", "acc_ci", "top5_ci", "ece_ci")
NO_OOD = "the study has no eval_on dataset"
# what metrics.json's `eval` keeps of every evaluated set
EVAL_SUBKEYS = ("acc", "acc_ci", "top5", "top5_ci", "loss", "ece", "ece_ci", "n")


def merge_metrics(
    spec: RunSpec,
    train: Mapping[str, Any],
    evals: Mapping[str, Mapping[str, Any]],
    bench: Mapping[str, Any],
) -> dict[str, Any]:
    """Join the stage records into metrics.json's flat keys, refusing a key two records set.

    `evals` maps each evaluated dataset to its record; the run's own dataset gives `test_*`,
    the first `eval_on` dataset gives `ood_*` (corrupted sets never do), and every one is kept
    under `eval`. A run that is not `ok` gets every missing key as null (its `reason` says
    why); an `ok` run's missing key is left missing, for the schema to catch.
    """
    own = evals.get(spec.dataset, {})
    others = [name for name in evals if name != spec.dataset and not parse_corrupted(name)]
    evaluation: dict[str, Any] = {f"test_{key}": own.get(key) for key in EVAL_KEYS}
    classes = len(own["classes"]) if own.get("classes") else None  # chance accuracy is 1/n
    evaluation.update(measured("num_classes", classes, "the evaluation recorded no class list"))
    if others:
        first = evals[others[0]]
        evaluation.update(
            ood_dataset=others[0], ood_acc=first.get("acc"), ood_acc_ci=first.get("acc_ci")
        )
        evaluation["ood_loss"] = first.get("loss")
        gap = None
        if own.get("acc") is not None and first.get("acc") is not None:
            gap = own["acc"] - first["acc"]
        evaluation["generalization_gap"] = gap
    else:
        for key in ("ood_dataset", "ood_acc", "ood_acc_ci", "ood_loss", "generalization_gap"):
            evaluation.update(measured(key, None, NO_OOD))
    evaluation["eval"] = {
        name: {k: v for k, v in record.items() if k in EVAL_SUBKEYS}
        for name, record in evals.items()
    }
    parts = [
        (
            "the run's identity",
            {
                "record_layout": RECORD_LAYOUT,
                **spec.identity(),
                "framework": spec.framework,
                "host": _host(train),
            },
        ),
        (f"{spec.run_dir}/train.json", _without(train, "provenance", "history", *spec.identity())),
        (
            f"{spec.run_dir}/bench/eager.json",
            _without(bench, "provenance", "sweep", "host", *spec.identity()),
        ),
        (f"{spec.run_dir}/eval/*.json", evaluation),
    ]
    metrics: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name, part in parts:
        for key, value in part.items():
            if key in origin:
                raise MetricsConflictError(
                    f"metrics key {key!r} is set by both {origin[key]} and {name}; "
                    "each measurement belongs to one record (rename one of them)"
                )
            metrics[key], origin[key] = value, name
    metrics["status"] = _worst(train, bench, *evals.values())
    metrics["reason"] = train.get("reason")
    if metrics["status"] != "ok" and not metrics["reason"]:
        metrics["reason"] = next(
            (r.get("reason") for r in (bench, *evals.values()) if r.get("reason")), None
        )
    metrics["provenance"] = {**train.get("provenance", {}), "finished": now()}
    if metrics["status"] != "ok":
        for key in _schema()["required"]:
            metrics.setdefault(key, None)
    return metrics


def invalid_metrics(spec: RunSpec, reason: str) -> dict[str, Any]:
    """metrics.json of a run whose train, eval or bench record broke its schema: status
    `invalid`, the reason, every measurement null (none of the broken record's numbers)."""
    noted = {"status": "failed", "reason": reason, "provenance": provenance(spec, now())}
    metrics = merge_metrics(spec, noted, {}, noted)
    metrics["status"] = "invalid"
    return metrics


def _host(train: Mapping[str, Any]) -> str:
    """The machine that trained the run (train.json's provenance), else this one."""
    return train.get("provenance", {}).get("host") or fingerprint.host_name()


def _without(record: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in (*keys, *SHARED_KEYS)}


def _worst(*records: Mapping[str, Any]) -> str:
    statuses = {record.get("status", "ok") for record in records}
    for status in ("invalid", "failed", "skipped"):
        if status in statuses:
            return status
    return "ok"


def _schema() -> dict:
    return schemas.metrics_schema()


def validate_metrics(metrics: Mapping[str, Any]) -> None:
    """Raise jsonschema.ValidationError (the most relevant error, as `jsonschema.validate`
    raises) when `metrics` breaks the metrics.json contract. The schema itself is not checked
    against its metaschema here (`jsonschema.validate` would, 0.15 s of every metrics job):
    it ships with the package and `tests/test_contract.py` checks it."""
    schema = _schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(metrics))
    if error is not None:
        raise error
