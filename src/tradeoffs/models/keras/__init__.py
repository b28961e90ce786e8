"""Keras models: seed 000's `cnn`, `bnn`, `hybrid` (larq) and seed 003's transfer learning.

Every model takes square 3-channel float images in [0, 255], 32x32 or the run's
`train.image_size` (`input_shape`; the prepared arrays adapted with
`tradeoffs.data.prepared.adapt_images`), and outputs softmax probabilities; scaling and
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

INPUT_SHAPE = (32, 32, 3)  # the seeds' CIFAR-10 size, every dataset's unless image_size says
BUILDERS = {"cnn": binary.cnn, "bnn": binary.bnn, "hybrid": binary.hybrid, "base": transfer.base}


def input_shape(image_size: int | None) -> tuple[int, int, int]:
    """(H, W, C) of a Keras run's images: `train.image_size` square, else INPUT_SHAPE."""
    return (image_size, image_size, INPUT_SHAPE[2]) if image_size else INPUT_SHAPE


def build_model(
    name: str,
    num_classes: int,
    transfer_cfg: dict[str, Any],
    options: dict[str, Any] | None = None,
    declared: dict[str, Any] | None = None,
    shape: tuple[int, int, int] = INPUT_SHAPE,
) -> tf.keras.Model:
    """The Keras implementation of registry model `name` for images of `shape`, uncompiled;
    `options` are its `model_options` (applications only). A declared model (`declared`: its
    checked `models:` entry) comes from its builder (`external`)."""
    if declared is not None:
        return external.build_declared(declared, shape, num_classes)
    if name in transfer.APPLICATIONS:
        return transfer.application_model(name, shape, num_classes, transfer_cfg, options)
    return BUILDERS[name](shape, num_classes)


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
