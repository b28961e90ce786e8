"""The Keras engine (`keras-cpu`, `keras-gpu`): seed 000's binary study and seed 003's transfer
learning. train (the loop in `fit.py`) -> model.keras, history.csv, train.json; predict;
predictor; loaded; benchmark -> bench/eager.json's device facts."""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # larq runs on Keras 2 only; before TF loads

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from tradeoffs.data.prepared import load_prepared
from tradeoffs.engines.keras import modelfile
from tradeoffs.engines.keras.data import model_input, model_shape
from tradeoffs.engines.keras.device import (
    configure,
    device_name,
    device_scope,
    peak_vram_mb,
    reset_peak_vram,
)
from tradeoffs.engines.keras.fit import train
from tradeoffs.engines.keras.steps import cross_entropy
from tradeoffs.engines.settings import TrainSettings
from tradeoffs.evaluation import Predictions
from tradeoffs.models.keras import load_model
from tradeoffs.records.nulls import NO_DEVICE_MEMORY, measured
from tradeoffs.runspec import RunSpec
from tradeoffs.runtimes import keras_runtimes
from tradeoffs.runtimes.base import Loaded

__all__ = ["benchmark", "loaded", "predict", "predictor", "train"]


def predict(spec: RunSpec, dataset: str) -> Predictions:
    """Probabilities on `dataset`'s test split, adapted to the model's input."""
    configure(spec)
    data = load_prepared(spec.prepared_dir(dataset))
    with device_scope(spec):
        model = modelfile.load(spec.model_path)
        batch = TrainSettings.of(spec).batch_size
        x = model_input(data.test_x, model_shape(model, spec))
        probs = model.predict(x, batch_size=batch, verbose=0)
    labels = data.test_y.astype(np.int64)
    return Predictions(probs=probs, labels=labels, loss=cross_entropy(probs, labels))


def predictor(spec: RunSpec) -> Callable[[np.ndarray], np.ndarray]:
    """The model loaded once, as probabilities of uint8 NHWC images adapted as in predict (the
    dashboard's path), called as benchmark calls it (a compiled function, not model.predict).
    Read here, not through the job's model cache: the dashboard's own cache decides how many
    models it keeps."""
    configure(spec)
    with device_scope(spec):
        model = load_model(spec.model_path)
        infer = tf.function(model, jit_compile=False)
    shape = model_shape(model, spec)
    return lambda images: infer(tf.constant(model_input(images, shape))).numpy()


def loaded(spec: RunSpec) -> Loaded:
    """The trained model and its test split for `tradeoffs.runtimes`."""
    configure(spec)
    data = load_prepared(spec.prepared_dir())
    model = modelfile.load(spec.model_path)
    return Loaded(
        model,
        model_input(data.test_x, model_shape(model, spec)),
        data.test_y.astype(np.int64),
        lambda name: keras_runtimes.build(name, model, spec.device, spec.threads),
        lambda x, index: x[index],
    )


def benchmark(spec: RunSpec) -> dict[str, Any]:
    """bench/eager.json's device facts: the device and the GPU memory one throughput batch
    takes. The model's own facts (sizes, larq's profile) are train.json's; the timing keys come
    from the sweep (`tradeoffs.runtimes.bench`), which times the model as every runtime is
    timed."""
    configure(spec)
    if spec.device != "cpu":  # the CPU has no device memory to read
        with device_scope(spec):
            model = modelfile.load(spec.model_path)
            test_x = model_input(
                load_prepared(spec.prepared_dir()).test_x, model_shape(model, spec)
            )
            # repeats images if too few
            batch = np.resize(test_x, (spec.throughput_batch, *test_x.shape[1:]))
            reset_peak_vram(spec)
            model(tf.constant(batch), training=False)
    return {
        **measured("bench_peak_vram_mb", peak_vram_mb(spec), NO_DEVICE_MEMORY),
        "bench_device_name": device_name(spec),
    }
