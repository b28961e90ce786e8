"""The numba engine (numba-cpu, numba-cuda): seed 004's CNN, hand-written kernels, trained and
measured with the same records as the torch engine. train (the loop in `fit.py`) -> model.npz,
history.csv, train.json; predict; predictor; loaded; benchmark -> bench/eager.json's device
facts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tradeoffs.engines.numba import modelfile
from tradeoffs.engines.numba.data import adapted, load_data
from tradeoffs.engines.numba.device import configure, device_name, host, peak_vram_mb, sync_for
from tradeoffs.engines.numba.fit import train
from tradeoffs.engines.numba.steps import softmax_xent
from tradeoffs.engines.settings import TrainSettings
from tradeoffs.evaluation import Predictions
from tradeoffs.measure.sweep import SweepSettings
from tradeoffs.records.nulls import NO_DEVICE_MEMORY, measured
from tradeoffs.runspec import RunSpec
from tradeoffs.runtimes import DEFAULT as DEFAULT_RUNTIME
from tradeoffs.runtimes.base import Loaded, Runtime, UnsupportedError
from tradeoffs.runtimes.bench import EVAL_BATCH as CHECK_BATCH

__all__ = ["benchmark", "loaded", "predict", "predictor", "train"]


def predict(spec: RunSpec, dataset: str) -> Predictions:
    """Softmax probabilities of the trained model on `dataset`'s test split."""
    configure(spec)
    theta, num_classes, norm = modelfile.load(spec)
    data = load_data(spec, dataset)
    model = modelfile.build(spec, theta, num_classes, norm, TrainSettings.of(spec).batch_size)
    probs, loss = softmax_xent(model.logits(model.resident(data.test_x)), data.test_y)
    return Predictions(probs=probs, labels=data.test_y, loss=loss)


def predictor(spec: RunSpec) -> Callable[[np.ndarray], np.ndarray]:
    """The model loaded once, as probabilities of uint8 NHWC images adapted as in predict (the
    dashboard's path)."""
    configure(spec)
    theta, num_classes, norm = modelfile.load(spec)
    model = modelfile.build(spec, theta, num_classes, norm, TrainSettings.of(spec).batch_size)
    return lambda images: softmax_xent(
        model.logits(model.resident(adapted(images))), np.zeros(len(images), int)
    )[0]


def loaded(spec: RunSpec) -> Loaded:
    """The trained model and its test split, for the check and the sweep
    (`tradeoffs.runtimes`; numba's one runtime is `eager`, the kernels themselves).

    On CUDA one call runs on the device buffers as they are, so they are sized for the largest
    batch the runtime is called with: the sweep's batch sizes and the check's batches."""
    configure(spec)
    theta, num_classes, norm = modelfile.load(spec)
    data = load_data(spec)
    swept = SweepSettings.from_cfg(spec.bench_cfg, spec.throughput_batch).batch_sizes
    capacity = max(*swept, min(CHECK_BATCH, len(data.test_y)))
    model = modelfile.build(spec, theta, num_classes, norm, capacity)
    run = model.logits_device if spec.device == "cuda" else model.logits
    eager = Runtime(DEFAULT_RUNTIME, model.resident, run, host, sync_for(spec))

    def build(name: str) -> Runtime:
        if name != DEFAULT_RUNTIME:
            raise UnsupportedError(f"the numba engine has no {name} runtime")
        return eager

    return Loaded(model, data.test_x, data.test_y, build, lambda x, index: x[index])


def benchmark(spec: RunSpec) -> dict[str, Any]:
    """bench/eager.json's device facts: the device and its memory. The model's own facts are
    train.json's; the timing keys come from the sweep (`tradeoffs.runtimes.bench`), which
    times the model as every runtime is timed."""
    return {
        **measured("bench_peak_vram_mb", peak_vram_mb(spec), NO_DEVICE_MEMORY),
        "bench_device_name": device_name(spec),
    }
