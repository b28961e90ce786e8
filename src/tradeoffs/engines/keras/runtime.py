"""TensorFlow set-up for one Keras run: legacy Keras (larq), devices, threads, seeds, and the
model file's save and load."""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # larq runs on Keras 2 only; before TF loads

from pathlib import Path

import tensorflow as tf

from tradeoffs import io
from tradeoffs.models.keras import load_model
from tradeoffs.records.provenance import cpu_name
from tradeoffs.runspec import RunSpec
from tradeoffs.seeding import seed_everything


def configure(spec: RunSpec) -> None:
    """Devices and threads (only possible before TensorFlow's first op; a process that already
    ran one keeps its settings), then seeds and deterministic ops."""
    try:
        if spec.device == "cpu":
            tf.config.set_visible_devices([], "GPU")
        # One op at a time, each on `threads` cores: the job uses the cores Snakemake gave it.
        tf.config.threading.set_intra_op_parallelism_threads(spec.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError as error:
        print(f"TensorFlow already initialised, keeping its devices and threads: {error}")
    # Layers draw (dropout) from tf.random.Generator objects, whose state a checkpoint holds.
    tf.keras.backend.experimental.enable_tf_random_generator()
    seed_everything(spec.seed)
    tf.keras.utils.set_random_seed(spec.seed)
    tf.config.experimental.enable_op_determinism()


def device_scope(spec: RunSpec) -> tf.device:
    return tf.device("/GPU:0" if spec.device != "cpu" else "/CPU:0")


def device_name(spec: RunSpec) -> str:
    if spec.device != "cpu":
        gpu = tf.config.list_physical_devices("GPU")[0]
        return tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
    return cpu_name()


def reset_peak_vram(spec: RunSpec) -> None:
    if spec.device != "cpu":
        tf.config.experimental.reset_memory_stats("GPU:0")


def peak_vram_mb(spec: RunSpec) -> float | None:
    if spec.device == "cpu":
        return None
    return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20


# Model files this process wrote or read, keyed on path, size and modification time: reading a
# DenseNet back alone takes seconds, and a job's steps (evaluations, profile, sweep) share one.
_MODELS: dict[tuple[str, int, int], tf.keras.Model] = {}


def _file_key(path: Path) -> tuple[str, int, int]:
    info = path.stat()
    return str(path.resolve()), info.st_size, info.st_mtime_ns


def save_model(model: tf.keras.Model, target: Path) -> None:
    """Native `.keras` format, complete or absent, without optimizer state (an uncompiled model
    over the same layers: the file is an inference artefact). The process keeps the model it
    wrote, so its own evaluation does not read the file back."""
    uncompiled = tf.keras.Model(model.inputs, model.outputs, name=model.name)
    with io.atomic_path(target) as tmp:
        uncompiled.save(tmp)
    _MODELS[_file_key(target)] = uncompiled


def saved_model(path: Path) -> tf.keras.Model:
    """The model in the file at `path`, read once per process (read again once it changes)."""
    key = _file_key(path)
    if key not in _MODELS:
        _MODELS[key] = load_model(path)
    return _MODELS[key]
