"""The training parts the numba epoch loop (`fit.train`) calls besides the model's own
`train_epoch`: the JIT warm-up and evaluation (softmax cross-entropy in float64)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from tradeoffs.engines.numba import modelfile
from tradeoffs.models.numba import layout
from tradeoffs.runspec import RunSpec


def softmax_xent(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float]:
    """Probabilities and mean cross-entropy, in float64."""
    z = logits.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return np.exp(log_probs), float(-log_probs[np.arange(len(labels)), labels].mean())


def evaluate(model: Any, xs: Any, labels: np.ndarray) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of `model` on the resident images `xs`."""
    probs, loss = softmax_xent(model.logits(xs), labels)
    return loss, float((probs.argmax(axis=1) == labels).mean())


def warm_up(
    spec: RunSpec,
    theta: np.ndarray,
    num_classes: int,
    norm: layout.Norm,
    batch_size: int,
    xs: Any,
    ys: Any,
    test_xs: Any,
) -> float:
    """JIT warm-up: one step and one inference on a throwaway copy of the model, so that the
    timed epochs measure training, not compilation. Returns the seconds it took."""
    start = time.perf_counter()
    scratch = modelfile.build(spec, theta.copy(), num_classes, norm, batch_size)
    scratch.train_epoch(xs, ys, np.arange(min(2, len(ys))), batch_size, 0.0, 0.0)
    scratch.logits(test_xs[:1])
    return time.perf_counter() - start
