"""Keras models: seed 000's `cnn`, `bnn`, `hybrid` (larq) and seed 003's transfer learning.

Every model takes 32x32x3 float images in [0, 255] (the prepared arrays adapted with
`tradeoffs.data.prepared.adapt_images`) and outputs softmax probabilities; scaling and
resizing are layers inside the model, so a saved `model.keras` needs no outside preprocessing.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # larq runs on Keras 2 only; before TF loads

from typing import Any

import larq as lq
import tensorflow as tf

from tradeoffs.fileformat import FileFormat, require
from tradeoffs.models.keras import binary, external, transfer, vetting

INPUT_SHAPE = (32, 32, 3)
BUILDERS = {"cnn": binary.cnn, "bnn": binary.bnn, "hybrid": binary.hybrid, "base": transfer.base}


def build_model(
    name: str,
    num_classes: int,
    transfer_cfg: dict[str, Any],
    options: dict[str, Any] | None = None,
    declared: dict[str, Any] | None = None,
) -> tf.keras.Model:
    """The Keras implementation of registry model `name`, uncompiled; `options` are its
    `model_options` (applications only). A declared model (`declared`: its checked `models:`
    entry) comes from its builder (`external`)."""
    if declared is not None:
        return external.build_declared(declared, INPUT_SHAPE, num_classes)
    if name in transfer.APPLICATIONS:
        return transfer.application_model(name, INPUT_SHAPE, num_classes, transfer_cfg, options)
    return BUILDERS[name](INPUT_SHAPE, num_classes)


def custom_objects() -> dict[str, Any]:
    """What `load_model` needs beyond Keras: larq's layers, quantisers and constraints, and the
    application preprocessing layer."""
    objects: dict[str, Any] = {"ApplicationPreprocess": transfer.ApplicationPreprocess}
    for module in (lq.layers, lq.quantizers, lq.constraints):
        objects.update({name: obj for name, obj in vars(module).items() if isinstance(obj, type)})
    return objects


def load_model(path: str | os.PathLike) -> tf.keras.Model:
    """The model in `path`, judged by content: a zip `.keras` file read with `safe_mode` (no
    `Lambda` bytecode), or a legacy HDF5 file only when every class its config names is a
    built-in Keras or project class (`vetting.refuse_code`); anything else is refused with an
    `UnexpectedFormatError` before Keras reads it."""
    objects = custom_objects()
    found = require(path, FileFormat.KERAS_ZIP, FileFormat.HDF5)
    if found is FileFormat.HDF5:
        vetting.refuse_code(path, objects)
    elif not str(path).endswith(".keras"):
        # Keras takes its safe zip path only for this suffix; another name would go legacy.
        vetting.refuse(path, "a zip Keras model must be named *.keras to be read safely")
    return tf.keras.models.load_model(path, custom_objects=objects, compile=False, safe_mode=True)
