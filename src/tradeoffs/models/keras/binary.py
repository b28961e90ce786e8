"""Seed 000: an accuracy baseline CNN, a binarized network (larq) and a hybrid of the two.

All three share the layout stem -> core -> head; the seed's table fixes which parts are binary:
`cnn` none, `bnn` everything after a full-precision stem, `hybrid` only the core. Binary layers
use larq's straight-through sign on inputs and kernels with weights clipped to [-1, 1], each
followed by batch norm (a binary layer's output has no useful scale of its own).
"""

from __future__ import annotations

import larq as lq
import tensorflow as tf

layers = tf.keras.layers

# larq's binary layer recipe (BinaryNet): sign inputs and kernels, clip latent weights, no bias.
BINARY = {
    "input_quantizer": "ste_sign",
    "kernel_quantizer": "ste_sign",
    "kernel_constraint": "weight_clip",
    "use_bias": False,
}
CORE_WIDTHS = ((64, 64), (128, 128))


def _inputs(input_shape: tuple[int, int, int]) -> tuple[tf.Tensor, tf.Tensor]:
    inputs = tf.keras.Input(input_shape)
    return inputs, layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)  # [0, 255] -> [-1, 1]


def _conv_bn(x: tf.Tensor, filters: int, binary: bool, relu: bool = True) -> tf.Tensor:
    if binary:
        x = lq.layers.QuantConv2D(filters, 3, padding="same", **BINARY)(x)
        return layers.BatchNormalization(momentum=0.9, scale=False)(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    return layers.Activation("relu")(x) if relu else x


def _stem(x: tf.Tensor, blocks: tuple[int, ...], binary_core: bool) -> tf.Tensor:
    """Full precision: binarizing the first layer costs the most accuracy for the least gain.
    Before a binary core the last conv stays unactivated: the core's sign of a ReLU output
    would be +1 everywhere."""
    for i, filters in enumerate(blocks):
        last = i == len(blocks) - 1
        x = _conv_bn(x, filters, binary=False, relu=not (binary_core and last))
    return layers.MaxPooling2D()(x)


def _core(x: tf.Tensor, binary: bool) -> tf.Tensor:
    for widths in CORE_WIDTHS:
        for filters in widths:
            x = _conv_bn(x, filters, binary)
        x = layers.MaxPooling2D()(x)
    return layers.Flatten()(x)


def _dense_head(x: tf.Tensor, num_classes: int, dropout: float) -> tf.Tensor:
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    return layers.Dense(num_classes, activation="softmax")(x)


def cnn(input_shape: tuple[int, int, int], num_classes: int) -> tf.keras.Model:
    """Accuracy baseline: deeper (two full-precision convs in the stem) with a dense head."""
    inputs, x = _inputs(input_shape)
    x = _core(_stem(x, (32, 32), binary_core=False), binary=False)
    return tf.keras.Model(inputs, _dense_head(x, num_classes, 0.5), name="cnn")


def bnn(input_shape: tuple[int, int, int], num_classes: int) -> tf.keras.Model:
    """Binary conv and dense layers after a full-precision stem."""
    inputs, x = _inputs(input_shape)
    x = _core(_stem(x, (32,), binary_core=True), binary=True)
    x = lq.layers.QuantDense(256, **BINARY)(x)
    x = layers.BatchNormalization(momentum=0.9, scale=False)(x)
    x = lq.layers.QuantDense(num_classes, **BINARY)(x)
    x = layers.BatchNormalization(momentum=0.9, scale=False)(x)
    outputs = layers.Activation("softmax")(x)
    return tf.keras.Model(inputs, outputs, name="bnn")


def hybrid(input_shape: tuple[int, int, int], num_classes: int) -> tf.keras.Model:
    """Full-precision stem, binary core, full-precision head."""
    inputs, x = _inputs(input_shape)
    x = _core(_stem(x, (32,), binary_core=True), binary=True)
    return tf.keras.Model(inputs, _dense_head(x, num_classes, 0.3), name="hybrid")
