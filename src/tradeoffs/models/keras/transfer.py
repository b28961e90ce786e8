"""Seed 003: ImageNet applications with a new head (transfer learning) and a small base CNN.

The recipe: upscale the 32x32 images to `input_size`, apply the application's own
`preprocess_input`, train a new head on the frozen base, then unfreeze the top
`fine_tune_layers` layers and fine-tune at a lower learning rate. Without ImageNet weights
(`weights: none`) the whole network trains from the start and fine-tuning continues it at the
lower learning rate. ImageNet weights are only ever read from disk: Keras' cache or
`transfer.weights_dir`, never downloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import tensorflow as tf

layers = tf.keras.layers
apps = tf.keras.applications
KERAS_CACHE = Path("~/.keras/models")  # where keras.utils.get_file keeps application weights
MOBILENET_SIZES = (96, 128, 160, 192, 224)


@dataclass(frozen=True)
class Application:
    constructor: Callable[..., tf.keras.Model]
    module: ModuleType  # holds the application's preprocess_input
    weights_file: Callable[[int], str]  # official no-top file name for an input size


APPLICATIONS = {
    "mobilenetv2": Application(
        apps.MobileNetV2,
        apps.mobilenet_v2,
        # Keras picks the 224 file for sizes it has no file of, as here.
        lambda size: (
            "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_"
            f"{size if size in MOBILENET_SIZES else 224}_no_top.h5"
        ),
    ),
    "resnet50v2": Application(
        apps.ResNet50V2,
        apps.resnet_v2,
        lambda size: "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
    ),
    "efficientnetb0": Application(
        apps.EfficientNetB0, apps.efficientnet, lambda size: "efficientnetb0_notop.h5"
    ),
    "densenet121": Application(
        apps.DenseNet121,
        apps.densenet,
        lambda size: "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
    ),
}


@tf.keras.utils.register_keras_serializable(package="tradeoffs")
class ApplicationPreprocess(layers.Layer):
    """An application's own `preprocess_input` as a layer, so the saved model carries it
    (a Lambda layer would not reload in Keras' safe mode)."""

    def __init__(self, application: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.application = application

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return APPLICATIONS[self.application].module.preprocess_input(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "application": self.application}


def weights_path(name: str, transfer_cfg: dict[str, Any]) -> Path:
    """The ImageNet weights file of application `name`; FileNotFoundError naming the file and
    the folder to place it in when it is not there."""
    size = transfer_cfg["input_size"]
    filename = APPLICATIONS[name].weights_file(size)
    folder = Path(transfer_cfg["weights_dir"] or KERAS_CACHE).expanduser()
    path = folder / filename
    if not path.is_file():
        raise FileNotFoundError(
            f"ImageNet weights for {name} not found: place {filename} in {folder} "
            "(or point transfer.weights_dir at the folder holding it); this workflow never "
            "downloads weights"
        )
    return path


def application_model(
    name: str,
    input_shape: tuple[int, int, int],
    num_classes: int,
    transfer_cfg: dict[str, Any],
    options: dict[str, Any] | None = None,
) -> tf.keras.Model:
    """Resize -> preprocess -> frozen application (no top, average pooled) -> dropout -> dense.
    `options` are the study's `model_options` for it: `width` is MobileNetV2's `alpha` (trained
    from scratch only; the config check refuses it with ImageNet weights)."""
    width = {"alpha": options["width"]} if options and "width" in options else {}
    size = transfer_cfg["input_size"]
    imagenet = pretrained(transfer_cfg)
    weights = str(weights_path(name, transfer_cfg)) if imagenet else None
    app = APPLICATIONS[name]
    base = app.constructor(
        include_top=False, weights=weights, input_shape=(size, size, 3), pooling="avg", **width
    )
    base.trainable = not imagenet  # frozen random features would teach the head nothing
    inputs = tf.keras.Input(input_shape)
    x = inputs
    if input_shape[:2] != (size, size):
        x = layers.Resizing(size, size)(x)
    x = ApplicationPreprocess(name)(x)
    # A pretrained base keeps its batch-norm statistics, also when fine-tuned (Keras' recipe).
    x = base(x, training=False if imagenet else None)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return tf.keras.Model(inputs, outputs, name=name)


def pretrained(transfer_cfg: dict[str, Any]) -> bool:
    return transfer_cfg["weights"] == "imagenet"


def start_fine_tuning(model: tf.keras.Model, transfer_cfg: dict[str, Any]) -> None:
    """Unfreeze the top `fine_tune_layers` layers of a pretrained base, batch norm excepted.
    A base trained from scratch is trainable whole already: fine-tuning just lowers the lr."""
    if not pretrained(transfer_cfg):
        return
    count = transfer_cfg["fine_tune_layers"]
    base = next(layer for layer in model.layers if isinstance(layer, tf.keras.Model))
    base.trainable = True
    for index, layer in enumerate(base.layers):
        top = index >= len(base.layers) - count
        layer.trainable = top and not isinstance(layer, layers.BatchNormalization)


def base(input_shape: tuple[int, int, int], num_classes: int) -> tf.keras.Model:
    """The seed's small reference CNN trained from scratch."""
    inputs = tf.keras.Input(input_shape)
    x = layers.Rescaling(1 / 255)(inputs)
    for filters in (32, 64):
        x = layers.Conv2D(filters, 3, activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return tf.keras.Model(inputs, outputs, name="base")
