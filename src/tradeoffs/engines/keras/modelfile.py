"""model.keras: the trained model in Keras' native format, without optimiser state (an
inference file), and the models this process wrote or read, kept so a job's steps share one."""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # larq runs on Keras 2 only; before TF loads

from pathlib import Path

import tensorflow as tf

from tradeoffs import io
from tradeoffs.models.keras import load_model

# Model files this process wrote or read, keyed on path, size and modification time: reading a
# DenseNet back alone takes seconds, and a job's steps (evaluations, profile, sweep) share one.
_MODELS: dict[tuple[str, int, int], tf.keras.Model] = {}


def _file_key(path: Path) -> tuple[str, int, int]:
    info = path.stat()
    return str(path.resolve()), info.st_size, info.st_mtime_ns


def save(target: Path, model: tf.keras.Model) -> None:
    """Native `.keras` format, complete or absent, without optimizer state (an uncompiled model
    over the same layers: the file is an inference artefact). The process keeps the model it
    wrote, so its own evaluation does not read the file back."""
    uncompiled = tf.keras.Model(model.inputs, model.outputs, name=model.name)
    with io.atomic_path(target) as tmp:
        uncompiled.save(tmp)
    _MODELS[_file_key(target)] = uncompiled


def load(path: Path) -> tf.keras.Model:
    """The model in the file at `path`, read once per process (read again once it changes)."""
    key = _file_key(path)
    if key not in _MODELS:
        _MODELS[key] = load_model(path)
    return _MODELS[key]
