"""The measurements of bench/{runtime}.json: a runtime built from a loaded model, checked against
the eager model's predictions on the test set, then swept over batch sizes. The benchmark job
(`tradeoffs.jobs.benchmark`) gives it the engine's loaded model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from scipy import special

from tradeoffs import runtimes
from tradeoffs.intervals import proportion_ci
from tradeoffs.measure.sweep import SweepSettings, sweep
from tradeoffs.records.predictions import SUFFIX, ExamplePredictions, from_probs, write
from tradeoffs.runtimes.base import Loaded, Runtime, UnsupportedError

EVAL_BATCH = 256  # check batches are padded to one size: one input shape per runtime


def predictions(runtime: Runtime, loaded: Loaded) -> ExamplePredictions:
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
    return from_probs(probs, np.asarray(loaded.labels))


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
    written there (`tradeoffs.records.predictions`) and the record names the file and its sha256
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
        record["runtime_predictions_sha256"] = write(examples_to, found)
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


def predictions_path(run_dir: str | Path, name: str) -> Path:
    """bench/{name}_predictions.npz of a run: runtime `name`'s per-example check predictions."""
    return Path(run_dir) / "bench" / f"{name}{SUFFIX}"
