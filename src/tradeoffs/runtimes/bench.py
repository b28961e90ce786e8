"""The measurements of bench/{runtime}.json: a runtime built from a loaded model, checked against
the eager model's predictions on the test set, then swept over batch sizes. The benchmark job
(`tradeoffs.jobs.benchmark`) gives it the engine's loaded model."""

from __future__ import annotations

from typing import Any

import numpy as np

from tradeoffs import runtimes
from tradeoffs.intervals import proportion_ci
from tradeoffs.measure.sweep import SweepSettings, sweep
from tradeoffs.runtimes.base import Loaded, Runtime, UnsupportedError

EVAL_BATCH = 256  # check batches are padded to one size: one input shape per runtime


def top1(runtime: Runtime, loaded: Loaded) -> np.ndarray:
    """The runtime's top-1 class of every test image."""
    n = len(loaded.labels)
    size = min(EVAL_BATCH, n)
    classes = []
    for start in range(0, n, size):
        count = min(size, n - start)
        index = (start + np.arange(size) % count).astype(np.int64)
        out = runtime.logits(runtime.call(runtime.place(loaded.take(loaded.images, index))))
        classes.append(np.asarray(out)[:count].argmax(axis=1))
    return np.concatenate(classes)


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
    name: str, loaded: Loaded, settings: SweepSettings, device: str = "cpu"
) -> dict[str, Any]:
    """Build, check, then sweep runtime `name`; a model the runtime cannot take is `skipped`
    with the exporter's message."""
    head = {"runtime": name, "runtime_kind": runtimes.kind(name)}
    reference = loaded.build(runtimes.DEFAULT)
    expected = top1(reference, loaded)
    try:
        runtime = reference if name == runtimes.DEFAULT else loaded.build(name)
        predicted = expected if runtime is reference else top1(runtime, loaded)
    except UnsupportedError as error:
        return {**head, "status": "skipped", "reason": str(error)}
    checked = check(name, predicted, expected, loaded.labels)
    record = {**head, **checked, "runtime_detail": runtime.detail}
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
