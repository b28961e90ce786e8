"""An example of a Keras model of your own for tradeoffs (docs/your-models.md).

tradeoffs calls `build(input_shape, num_classes, **options)`; the Keras engine feeds every
dataset as (32, 32, 3) float images in [0, 255], and the model returns num_classes
probabilities (softmax last). Only Keras' and larq's own layers: the model file is read back
in safe mode.
"""

import tensorflow as tf


def build(input_shape, num_classes, width=16):
    inputs = tf.keras.Input(input_shape)
    x = tf.keras.layers.Rescaling(1 / 255.0)(inputs)
    x = tf.keras.layers.Conv2D(width, 3, padding="same", activation="relu")(x)
    x = tf.keras.layers.MaxPooling2D()(x)
    x = tf.keras.layers.Conv2D(2 * width, 3, padding="same", activation="relu")(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    outputs = tf.keras.layers.Dense(num_classes, activation="softmax")(x)
    return tf.keras.Model(inputs, outputs, name="mynet_keras")
