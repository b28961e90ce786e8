"""Batch-norm statistics recalibrated on the training images before a Keras model is saved.

Keras' batch norm keeps 1% of each batch's statistics (momentum 0.99), so after the few dozen
steps of a scaled-down run its moving mean and variance are still mostly their initial 0 and 1,
and a network that fits its training batches scores chance in inference mode. One forward pass
in training mode over the training images with momentum 0 sets every layer's moving statistics
to those images' batch statistics, layer by layer (each layer sees the previous one normalised
by the same batch); no weight changes. The same torch step is `models/torch/batchnorm.py`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

MAX_IMAGES = 512  # one batch: enough for stable statistics, small enough for any network here


def batchnorm_layers(model: tf.keras.Model) -> list[tf.keras.layers.BatchNormalization]:
    """Every batch-norm layer of `model`, nested models included."""
    found = []
    for layer in model.layers:
        if isinstance(layer, tf.keras.Model):
            found += batchnorm_layers(layer)
        elif isinstance(layer, tf.keras.layers.BatchNormalization):
            found.append(layer)
    return found


def recalibrate_batchnorm(model: tf.keras.Model, images: np.ndarray) -> bool:
    """Set every trainable batch-norm layer's moving statistics to their values over `images`
    (at most `MAX_IMAGES`, as one batch, in the model's own input format); True when the model
    had any. Frozen layers (a pretrained base keeps ImageNet's statistics) are left as is."""
    layers = [layer for layer in batchnorm_layers(model) if layer.trainable]
    if not layers:
        return False
    images = images[:MAX_IMAGES]
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = 0.0
    try:
        model(tf.constant(images), training=True)
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
    return True
