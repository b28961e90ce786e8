"""Keras batch-norm recalibration: stale moving statistics in, the training images' out."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from tradeoffs.models.keras.batchnorm import batchnorm_layers, recalibrate_batchnorm  # noqa: E402


def blobs(n: int = 256, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = 20.0 + rng.normal(size=(n, 16)) + 3.0 * (2 * y[:, None] - 1)
    return x.astype(np.float32), y


@pytest.mark.slow
def test_stale_statistics_are_replaced_and_accuracy_returns():
    tf.keras.utils.set_random_seed(0)
    inner = tf.keras.Sequential([tf.keras.layers.BatchNormalization(momentum=1.0)])
    inputs = tf.keras.Input((16,))
    hidden = tf.keras.layers.Dense(32)(inputs)
    outputs = tf.keras.layers.Dense(2, activation="softmax")(tf.nn.relu(inner(hidden)))
    model = tf.keras.Model(inputs, outputs)
    x, y = blobs()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=20, batch_size=64, verbose=0)  # momentum 1: statistics never move
    test_x, test_y = blobs(seed=1)
    stale = (model.predict(test_x, verbose=0).argmax(1) == test_y).mean()
    bn = inner.layers[0]
    bn.momentum = 0.99
    assert batchnorm_layers(model) == [bn]  # found inside the nested model
    assert recalibrate_batchnorm(model, x)
    assert bn.momentum == 0.99
    features = model.layers[1](x).numpy()
    np.testing.assert_allclose(bn.moving_mean.numpy(), features.mean(0), rtol=1e-4, atol=1e-3)
    recalibrated = (model.predict(test_x, verbose=0).argmax(1) == test_y).mean()
    assert stale <= 0.6
    assert recalibrated >= 0.95
