"""Keras runtimes: eager (a compiled tf.function, as the engine times it), the TFLite
interpreter, and the Larq Compute Engine's converter and interpreter for larq networks."""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # larq runs on Keras 2 only; before TF loads

import contextlib
import io
import platform
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from tradeoffs.runtimes.base import Runtime, UnsupportedError

ARM64 = ("aarch64", "arm64")
# The interpreter's own documentation: its optimised binary kernels are for ARM64; elsewhere it
# computes correct outputs with reference kernels, not tuned for speed.
REFERENCE_KERNELS = " (not ARM64: LCE's reference kernels, not its optimised ones)"


def eager(model: tf.keras.Model, device: str) -> Runtime:
    """`.numpy()` in the call waits for the device, as in the engine's benchmark."""
    infer = tf.function(model, jit_compile=False)
    scope = "/GPU:0" if device != "cpu" else "/CPU:0"

    def place(x: np.ndarray) -> tf.Tensor:
        with tf.device(scope):
            return tf.identity(tf.constant(x))

    def call(x: tf.Tensor) -> np.ndarray:
        with tf.device(scope):
            return infer(x).numpy()

    return Runtime("eager", place, call, np.asarray)


def _convert(name: str, convert: Callable[[], bytes]) -> tuple[bytes, float]:
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            flatbuffer = convert()
    except Exception as error:  # converters raise many types; the message is the reason
        raise UnsupportedError(f"{name}: {type(error).__name__}: {error}") from error
    return flatbuffer, time.perf_counter() - start


def tflite(model: tf.keras.Model, threads: int) -> Runtime:
    """TFLiteConverter (float32, default optimisations off) and tf.lite.Interpreter with the
    run's threads; `place` resizes the interpreter's input to the batch."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    flatbuffer, setup_s = _convert("TFLiteConverter", converter.convert)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's move to ai_edge_litert
        interpreter = tf.lite.Interpreter(model_content=flatbuffer, num_threads=threads)
    source = interpreter.get_input_details()[0]["index"]
    target = interpreter.get_output_details()[0]["index"]
    shape: list[tuple[int, ...]] = []

    def place(x: np.ndarray) -> np.ndarray:
        if shape != [x.shape]:
            interpreter.resize_tensor_input(source, list(x.shape))
            interpreter.allocate_tensors()
            shape[:] = [x.shape]
        return np.ascontiguousarray(x, dtype=np.float32)

    def call(x: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(source, x)
        interpreter.invoke()
        return interpreter.get_tensor(target)

    return Runtime(
        "tflite",
        place,
        call,
        np.asarray,
        setup_s=setup_s,
        size_mb=len(flatbuffer) / 2**20,
        detail="tf.lite.Interpreter (XNNPACK)",
    )


def _has_binary_layers(model: tf.keras.Model) -> bool:
    return any(type(layer).__module__.startswith("larq") for layer in model.layers)


def lce(model: tf.keras.Model, threads: int) -> Runtime:
    """Larq Compute Engine: converts larq's binarised layers to its binary kernels (bconv2d);
    its interpreter invokes one sample at a time, so batch b is b invocations."""
    if not _has_binary_layers(model):
        raise UnsupportedError("no larq layers: the Larq Compute Engine is for binarised networks")
    try:
        import larq_compute_engine
        from larq_compute_engine.tflite.python.interpreter import Interpreter
    except ImportError as error:
        raise UnsupportedError(f"larq-compute-engine is not installed: {error}") from error
    flatbuffer, setup_s = _convert(
        "larq_compute_engine.convert_keras_model",
        lambda: larq_compute_engine.convert_keras_model(model),
    )
    interpreter = Interpreter(flatbuffer, num_threads=threads)

    def call(x: np.ndarray) -> Any:
        return interpreter.predict(x)

    return Runtime(
        "lce",
        lambda x: np.ascontiguousarray(x, dtype=np.float32),
        call,
        np.asarray,
        setup_s=setup_s,
        size_mb=len(flatbuffer) / 2**20,
        detail=f"larq_compute_engine {larq_compute_engine.__version__}, one sample per invoke"
        + ("" if platform.machine() in ARM64 else REFERENCE_KERNELS),
    )


def build(name: str, model: tf.keras.Model, device: str, threads: int) -> Runtime:
    """Runtime `name` of a loaded Keras model. TFLite and LCE run on the CPU."""
    if name == "eager":
        return eager(model, device)
    if name == "tflite":
        return tflite(model, threads)
    if name == "lce":
        return lce(model, threads)
    raise ValueError(f"unknown Keras runtime {name!r}")
