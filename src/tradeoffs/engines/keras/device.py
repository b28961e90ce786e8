"""TensorFlow set-up for one Keras run (legacy Keras for larq, devices, threads, seeds), and the
device facts every record reports."""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # larq runs on Keras 2 only; before TF loads

import tensorflow as tf

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
