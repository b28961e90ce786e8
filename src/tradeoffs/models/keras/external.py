"""A declared Keras model: a builder (a function in a file of the user's) called as
`build(input_shape, num_classes, **options)`. `input_shape` is the run's: (32, 32, 3), or
`train.image_size` square with 3 channels; every dataset is adapted to it, as float images in
[0, 255]; the model returns `num_classes`
probabilities (a softmax last), as the built-in Keras models do, and is made of layers Keras
can save and read back in safe mode (Keras' and larq's own; no Lambda layer)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tensorflow as tf

from tradeoffs.models.builders import ExternalModelError, builder_function


def build_declared(
    declared: Mapping[str, Any], in_shape: tuple[int, int, int], num_classes: int
) -> tf.keras.Model:
    model = builder_function(declared["builder"])(
        tuple(in_shape), num_classes, **declared["options"]
    )
    if not isinstance(model, tf.keras.Model):
        raise ExternalModelError(
            f"the builder returned {type(model).__name__}, not a tf.keras.Model"
        )
    return model
