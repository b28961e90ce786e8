"""The files a run leaves behind: train.json, eval/*.json, bench.json and metrics.json.

Each stage writes its own JSON record; `merge_metrics` joins them into the flat `metrics.json`
that docs/architecture.md ("Metrics") and `tradeoffs/schemas/metrics.schema.json` define. A run
that could not happen (backend absent) or broke in a way the study should show (diverged, out of
memory) still leaves every file, with `status` and `reason`, so tables list it instead of
dropping it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import importlib.metadata
import json
import platform
import socket
import subprocess
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from tradeoffs import fingerprint, io, schemas
from tradeoffs.recordcheck import InvalidRecordError, read_json_record, stage_schema
from tradeoffs.registry import parse_corrupted
from tradeoffs.runspec import RunSpec

STATUSES = ("ok", "skipped", "failed")
# metrics.json's layout version: the schema's, so a record of another layout is invalid on read.
RECORD_LAYOUT = schemas.metrics_schema()["properties"]["record_layout"]["const"]
HISTORY_COLUMNS = (
    "epoch",
    "train_loss",
    "train_acc",
    "test_loss",
    "test_acc",
    "val_loss",
    "val_acc",
    "epoch_time_s",
    "train_throughput_sps",
    "peak_rss_mb",
    "peak_vram_mb",
    "cpu_util_pct",
)
PACKAGES = (
    "torch",
    "torchvision",
    "tensorflow",
    "tf-keras",
    "larq",
    "larq-compute-engine",
    "onnx",
    "onnxruntime",
    "numba",
    "numpy",
    "ml-dtypes",
    "scikit-learn",
    "snakemake",
)


NO_DEVICE_MEMORY = "CPU run: no device memory"
NOT_BINARY = "not a binary (larq) model"
BINARY_KEYS = ("binary_mac_ratio", "binary_params", "fp_params")  # larq's profile gives them


def measured(key: str, value: Any, reason: str) -> dict[str, Any]:
    """`{key: value}`, or `{key: None, key_reason: reason}` when the value could not be measured:
    a null in a record always says why."""
    return {key: value} if value is not None else {key: None, f"{key}_reason": reason}


def not_binary() -> dict[str, Any]:
    """The larq-only keys of a model without binary layers: each null, with the reason."""
    return {k: v for key in BINARY_KEYS for k, v in measured(key, None, NOT_BINARY).items()}


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@cache
def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def data_digest(spec: RunSpec) -> str | None:
    """A hash of the run's prepared arrays' sha256 sums (meta.json): equal digests, same data.
    None when the dataset was never prepared here (a run skipped before `prepare`)."""
    try:
        arrays = io.read_json(spec.prepared_dir() / "meta.json")["arrays"]
    except (OSError, KeyError, ValueError):
        return None
    canonical = json.dumps(arrays, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def provenance(spec: RunSpec, started: str, device_name: str | None = None) -> dict[str, Any]:
    """Who, where and with what a record was made: `host` is the name tables show (config
    `host:`, else the machine's `host_id`), `fingerprint` the machine itself."""
    machine = fingerprint.fingerprint(spec.device, spec.threads)
    return {
        "versions": _versions(),
        "git_commit": _git_commit(),
        "host": fingerprint.host_name(),
        "host_id": machine["host_id"],
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "gpu": device_name if spec.device != "cpu" else None,
        "threads": spec.threads,
        "config_hash": spec.config_hash,
        "data_digest": data_digest(spec),
        "fingerprint": machine,
        "started": started,
        "finished": now(),
    }


def write_history(path: Path, rows: list[Mapping[str, Any]]) -> None:
    """history.csv: one row per epoch (header only for a run that never trained)."""
    with io.atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HISTORY_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def write_not_run(spec: RunSpec, status: str, reason: str, started: str) -> None:
    """Every train output for a run that did not produce a model: an empty model file, a header-
    only history and a train.json saying why."""
    assert status in ("skipped", "failed")
    io.write_text(spec.model_path, "")
    write_history(spec.run_dir / "history.csv", [])
    io.write_json(
        spec.run_dir / "train.json",
        {
            **spec.identity(),
            "status": status,
            "reason": reason,
            "provenance": provenance(spec, started),
        },
    )


def upstream_status(spec: RunSpec) -> tuple[str, str | None]:
    """The status and reason train.json recorded; later stages pass a non-ok one on (`invalid`
    for a train.json that breaks its schema, with why)."""
    try:
        record = read_json_record(spec.run_dir / "train.json", stage_schema("train"))
    except InvalidRecordError as error:
        return "invalid", f"{error}; rerun its train job (snakemake --forcerun train)"
    return record["status"], record.get("reason")


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
    """Raise jsonschema.ValidationError when `metrics` breaks the metrics.json contract."""
    jsonschema.validate(metrics, _schema())
