"""bench/{runtime}.json of one run: the runtime built from the trained model, checked against
the eager model's predictions on the test set, then swept over batch sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from scipy import special

from tradeoffs import engines, fingerprint, per_example, records, runtimes
from tradeoffs.intervals import proportion_ci
from tradeoffs.measure.sweep import SweepSettings, sweep
from tradeoffs.runspec import RunSpec
from tradeoffs.runtimes.base import Loaded, Runtime, UnsupportedError

EVAL_BATCH = 256  # check batches are padded to one size: one input shape per runtime


def predictions(runtime: Runtime, loaded: Loaded) -> per_example.ExamplePredictions:
    """The runtime's top-1 class and its softmax probability for every test image, with the
    true labels (the compact per-example form the evaluations keep)."""
    n = len(loaded.labels)
    size = min(EVAL_BATCH, n)
    outputs = []
    for start in range(0, n, size):
        count = min(size, n - start)
        index = (start + np.arange(size) % count).astype(np.int64)
        out = runtime.logits(runtime.call(runtime.place(loaded.take(loaded.images, index))))
        outputs.append(np.asarray(out, dtype=np.float64)[:count])
    out = np.concatenate(outputs)
    is_probs = np.all(out >= 0) and np.allclose(out.sum(axis=1), 1.0, atol=1e-3)
    probs = out if is_probs else special.softmax(out, axis=1)  # a softmax head's or logits
    return per_example.from_probs(probs, np.asarray(loaded.labels))


def check(name: str, predicted: np.ndarray, reference: np.ndarray, labels: np.ndarray) -> dict:
    """Top-1 agreement with eager and accuracy, with their Wilson intervals; a float runtime
    below AGREEMENT_MIN fails."""
    agreement = float(np.mean(predicted == reference))
    record = {
        "agreement_top1": agreement,
        "agreement_top1_ci": proportion_ci(predicted == reference),
        "runtime_acc": float(np.mean(predicted == labels)),
        "runtime_acc_ci": proportion_ci(predicted == labels),
        "check_n": int(labels.size),
        "status": "ok",
        "reason": None,
    }
    if runtimes.kind(name) == "float" and agreement < runtimes.AGREEMENT_MIN:
        record["status"] = "failed"
        record["reason"] = (
            f"top-1 agreement with eager {agreement:.4f} is below {runtimes.AGREEMENT_MIN}: "
            "the exported model computes something else"
        )
    return record


def measure(
    name: str,
    loaded: Loaded,
    settings: SweepSettings,
    device: str = "cpu",
    examples_to: Path | None = None,
) -> dict[str, Any]:
    """Build, check, then sweep runtime `name`; a model the runtime cannot take is `skipped`
    with the exporter's message. With `examples_to`, the check's per-example predictions are
    written there (`tradeoffs.per_example`) and the record names the file and its sha256
    (`runtime_predictions`, `runtime_predictions_sha256`), so a runtime's accuracy can later be
    compared with eager's on the same examples."""
    head = {"runtime": name, "runtime_kind": runtimes.kind(name)}
    reference = loaded.build(runtimes.DEFAULT)
    expected = predictions(reference, loaded)
    try:
        runtime = reference if name == runtimes.DEFAULT else loaded.build(name)
        found = expected if runtime is reference else predictions(runtime, loaded)
    except UnsupportedError as error:
        return {**head, "status": "skipped", "reason": str(error)}
    checked = check(name, found.predicted, expected.predicted, found.label)
    record = {**head, **checked, "runtime_detail": runtime.detail}
    if examples_to is not None:
        record["runtime_predictions"] = examples_to.name
        record["runtime_predictions_sha256"] = per_example.write(examples_to, found)
    if checked["status"] != "ok":
        return record

    def make_call(batch: int) -> Any:
        index = np.arange(batch) % len(loaded.labels)
        placed = runtime.place(loaded.take(loaded.images, index))
        return lambda: runtime.call(placed)

    try:
        timings = sweep(make_call, settings, runtime.sync, device)
    except UnsupportedError as error:  # torch.compile fails at its first call on a new shape
        return {**head, "status": "skipped", "reason": str(error)}
    return {
        **record,
        "setup_s": runtime.setup_s,
        "runtime_size_mb": runtime.size_mb,
        **timings,
    }


def benchmark(spec: RunSpec, name: str) -> dict[str, Any]:
    """bench/{name}.json's keys: the sweep's timing keys for every runtime; eager adds the
    engine's device facts (the device, its memory). The model's own facts (sizes, FLOPs) are
    train.json's: the train job counts them with the model in hand. Writes the check's
    per-example predictions to bench/{name}_predictions.npz."""
    engine = engines.load(spec.framework)
    device_facts = engine.benchmark(spec) if name == runtimes.DEFAULT else {}
    settings = SweepSettings.from_cfg(spec.bench_cfg, spec.throughput_batch)
    examples = predictions_path(spec.run_dir, name)
    return {**device_facts, **measure(name, engine.loaded(spec), settings, spec.device, examples)}


def predictions_path(run_dir: str | Path, name: str) -> Path:
    """bench/{name}_predictions.npz of a run: runtime `name`'s per-example check predictions."""
    return Path(run_dir) / "bench" / f"{name}{per_example.SUFFIX}"


def bench_record(spec: RunSpec, name: str) -> dict[str, Any]:
    """bench/{name}.json: the run's identity and runtime, then its measurements, or the status
    and reason of a run that was not trained (skipped, failed)."""
    head = {**spec.identity(), "host": fingerprint.host_name()}
    head |= {"runtime": name, "runtime_kind": runtimes.kind(name)}
    status, reason = records.upstream_status(spec)
    if status != "ok":
        return {**head, "status": status, "reason": reason}
    return {**head, "status": "ok", "reason": None, **benchmark(spec, name)}
