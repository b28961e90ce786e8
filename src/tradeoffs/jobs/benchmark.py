"""The benchmark job: bench/{runtime}.json of one run, the runtime built from the trained model,
checked against eager, then swept over batch sizes (`tradeoffs.runtimes.bench`); eager adds the
engine's device facts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tradeoffs import engines, fingerprint, io, runtimes
from tradeoffs.data import DataError
from tradeoffs.fileformat import UnexpectedFormatError
from tradeoffs.jobs import JobError
from tradeoffs.measure.sweep import SweepSettings
from tradeoffs.records.not_run import upstream_status
from tradeoffs.runspec import RunSpec
from tradeoffs.runtimes.bench import measure, predictions_path


def runtime_head(spec: RunSpec, runtime: str) -> dict[str, Any]:
    """The first keys of bench/{runtime}.json and serving/{runtime}.json: the run's identity,
    the host, the runtime and its kind."""
    head = {**spec.identity(), "host": fingerprint.host_name()}
    return head | {"runtime": runtime, "runtime_kind": runtimes.kind(runtime)}


def measurements(spec: RunSpec, name: str) -> dict[str, Any]:
    """bench/{name}.json's keys: the sweep's timing keys for every runtime; eager adds the
    engine's device facts (the device, its memory). The model's own facts (sizes, FLOPs) are
    train.json's: the train job counts them with the model in hand. Writes the check's
    per-example predictions to bench/{name}_predictions.npz."""
    engine = engines.load(spec.framework)
    device_facts = engine.benchmark(spec) if name == runtimes.DEFAULT else {}
    settings = SweepSettings.from_cfg(spec.bench_cfg, spec.throughput_batch)
    examples = predictions_path(spec.run_dir, name)
    return {**device_facts, **measure(name, engine.loaded(spec), settings, spec.device, examples)}


def bench_record(spec: RunSpec, name: str) -> dict[str, Any]:
    """bench/{name}.json: the run's identity and runtime, then its measurements, or the status
    and reason of a run that was not trained (skipped, failed)."""
    head = runtime_head(spec, name)
    status, reason = upstream_status(spec)
    if status != "ok":
        return {**head, "status": status, "reason": reason}
    return {**head, "status": "ok", "reason": None, **measurements(spec, name)}


def benchmark(spec: RunSpec, runtime: str, output: Path) -> None:
    """Write bench/{runtime}.json (`output`)."""
    try:
        record = bench_record(spec, runtime)
    except (DataError, UnexpectedFormatError) as error:
        raise JobError(f"benchmark failed: {error}") from None
    io.write_json(output, record)
    print({k: v for k, v in record.items() if k != "sweep"})
