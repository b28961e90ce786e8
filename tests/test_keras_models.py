"""Keras model definitions: shapes, larq's binary profile, the ImageNet-weights path."""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # larq runs on Keras 2 only; before TF loads

import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from tradeoffs.config import study_with_defaults
from tradeoffs.models.keras import INPUT_SHAPE, build_model, transfer
from tradeoffs.models.keras.profile import profile


def transfer_cfg(**values: object) -> dict:
    """A study's `transfer:` block with the schema's defaults, as engines receive it."""
    return study_with_defaults({"transfer": values})["transfer"]


NONE = transfer_cfg(weights="none", input_size=32)


@pytest.mark.parametrize("name", ["cnn", "bnn", "hybrid", "base"])
def test_small_models_output_class_probabilities(name):
    model = build_model(name, 10, NONE)
    probs = model(np.zeros((2, *INPUT_SHAPE), np.float32)).numpy()
    assert probs.shape == (2, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_binary_profiles_follow_the_seed_table():
    bnn, hybrid, cnn = (profile(build_model(m, 10, NONE)) for m in ("bnn", "hybrid", "cnn"))
    assert bnn["binary_mac_ratio"] > 0.8
    assert 0 < hybrid["binary_mac_ratio"] < bnn["binary_mac_ratio"]
    assert cnn["binary_mac_ratio"] == 0 and cnn["binary_params"] == 0
    # 1 bit per binary weight: the binarized network is far smaller than its parameter count
    # at 32 bits would be.
    assert bnn["est_footprint_mb"] < bnn["params"] * 4 / 2**20 / 8


def test_imagenet_weights_load_from_the_official_file_name(tmp_path):
    app = transfer.APPLICATIONS["mobilenetv2"]
    reference = app.constructor(include_top=False, weights=None, input_shape=(32, 32, 3))
    reference.save_weights(tmp_path / app.weights_file(32))
    cfg = transfer_cfg(weights="imagenet", weights_dir=str(tmp_path), input_size=32)
    model = build_model("mobilenetv2", 10, cfg)
    base = model.get_layer(reference.name)
    assert not base.trainable
    for loaded, saved in zip(base.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(loaded, saved)

    transfer.start_fine_tuning(model, {**cfg, "fine_tune_layers": 5})
    trainable = [layer.name for layer in base.layers if layer.trainable]
    top = [
        layer
        for layer in base.layers[-5:]
        if not isinstance(layer, tf.keras.layers.BatchNormalization)
    ]
    assert trainable == [layer.name for layer in top]


def test_from_scratch_application_trains_whole():
    model = build_model("efficientnetb0", 10, NONE)
    assert model.get_layer("efficientnetb0").trainable


@pytest.mark.parametrize("name", sorted(transfer.APPLICATIONS))
def test_missing_imagenet_weights_name_the_file_and_folder(tmp_path, name):
    cfg = transfer_cfg(weights="imagenet", weights_dir=str(tmp_path / "weights"), input_size=96)
    with pytest.raises(FileNotFoundError) as error:
        build_model(name, 10, cfg)
    message = str(error.value)
    assert transfer.APPLICATIONS[name].weights_file(96) in message
    assert str(tmp_path / "weights") in message


def test_missing_weights_default_to_keras_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=str(tmp_path / ".keras" / "models")):
        transfer.weights_path("efficientnetb0", transfer_cfg(weights="imagenet"))


@pytest.mark.parametrize("name", ["bnn", "hybrid"])
def test_binary_core_sees_both_signs(name):
    """The stem must not end in a ReLU: the core's sign would make every input +1."""
    model = build_model(name, 10, NONE)
    first = next(layer for layer in model.layers if isinstance(layer, lq.layers.QuantConv2D))
    probe = tf.keras.Model(model.input, first.input)
    images = np.random.default_rng(0).uniform(0, 255, (4, *INPUT_SHAPE)).astype(np.float32)
    features = probe(images).numpy()
    assert features.min() < 0 < features.max()
