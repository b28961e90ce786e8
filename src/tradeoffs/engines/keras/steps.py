"""The training parts the Keras epoch loop (`fit.train`) calls: the phases, each phase's
optimiser and compile, one epoch's `model.fit`, evaluation, and the cross-entropy `predict`
reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from tradeoffs.engines.settings import TrainSettings
from tradeoffs.models.keras.transfer import APPLICATIONS

FINE_TUNE_LR_FACTOR = 0.1  # seed 003: fine-tune the unfrozen layers at a tenth of the lr


@dataclass(frozen=True)
class Phase:
    """A training phase: its epochs and learning rate."""

    epochs: int
    lr: float


def phases(model_name: str, s: TrainSettings) -> list[Phase]:
    """The run's phases: the training, then (a `keras.applications` network with
    `fine_tune_epochs`) the fine-tuning of the unfrozen top layers at a tenth of the rate."""
    planned = [Phase(s.epochs, s.lr)]
    if model_name in APPLICATIONS and s.fine_tune_epochs:
        planned.append(Phase(s.fine_tune_epochs, s.lr * FINE_TUNE_LR_FACTOR))
    return planned


def make_optimizer(s: TrainSettings, lr: float, steps: int) -> tf.keras.optimizers.Optimizer:
    """The settings' optimiser at rate `lr` (cosine: decayed over the phase's `steps`)."""
    rate: Any = lr
    if s.schedule == "cosine":
        rate = tf.keras.optimizers.schedules.CosineDecay(lr, decay_steps=max(steps, 1))
    decay = s.weight_decay or None
    if s.optimizer == "sgd":
        return tf.keras.optimizers.SGD(rate, momentum=s.momentum, weight_decay=decay)
    if s.optimizer == "adamw":
        return tf.keras.optimizers.AdamW(rate, weight_decay=s.weight_decay)
    return tf.keras.optimizers.Adam(rate, weight_decay=decay)


def compile_phase(
    model: tf.keras.Model, s: TrainSettings, phase: Phase, steps_per_epoch: int
) -> tf.keras.optimizers.Optimizer:
    """Compile `model` for `phase` with a fresh optimiser, which it returns. The accuracy
    metric is passed as the object Keras makes of "accuracy" for this loss, and the optimiser's
    slots are built here: the first training step then creates no variable, and TensorFlow
    traces it once instead of twice (a trace of a Keras application costs seconds)."""
    optimizer = make_optimizer(s, phase.lr, phase.epochs * steps_per_epoch)
    accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    model.compile(optimizer, "sparse_categorical_crossentropy", [accuracy])
    optimizer.build(model.trainable_variables)
    return optimizer


def fit_epoch(
    model: tf.keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int
) -> tuple[float, float]:
    """One epoch of training steps over `x` in the order given; the mean loss and accuracy."""
    logs = model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0).history
    return float(logs["loss"][0]), float(logs["accuracy"][0])


def evaluate(
    model: tf.keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int
) -> tuple[float, float]:
    """Mean loss and accuracy on `x`."""
    loss, acc = model.evaluate(x, y, batch_size=batch_size, verbose=0)
    return float(loss), float(acc)


def cross_entropy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean sparse categorical cross-entropy, clipped as Keras clips (epsilon 1e-7)."""
    picked = probs[np.arange(labels.size), labels]
    return float(-np.log(np.clip(picked, 1e-7, 1.0)).mean())
