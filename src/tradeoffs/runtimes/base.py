"""What every runtime provides to the correctness check and the sweep."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tradeoffs.measure.timing import no_sync


class UnsupportedError(Exception):
    """The runtime cannot take this model (export or conversion failed); the message, usually
    the exporter's, becomes the skipped record's reason."""


@dataclass
class Runtime:
    """A model made ready for one runtime.

    `place` turns a batch of the engine's test images into the runtime's input (host-to-device
    copies and conversions, never timed); `call` runs one inference on a placed batch (timed);
    `logits` turns `call`'s output into a numpy array. `setup_s` is the export, conversion or
    compilation time, kept apart from every timed call."""

    name: str
    place: Callable[[Any], Any]
    call: Callable[[Any], Any]
    logits: Callable[[Any], np.ndarray]
    sync: Callable[[], None] = no_sync
    setup_s: float = 0.0
    size_mb: float | None = None  # the serialised artefact (ONNX, flatbuffer), where there is one
    detail: str | None = None  # provider, quantisation scheme: how the numbers were obtained


@dataclass
class Loaded:
    """What an engine hands the runtimes: the trained model in eval mode on the run's device,
    the run's test images as its predict feeds them (indexable by an integer array), their
    labels, training images to calibrate static quantisation with, and a `build(name)` that
    makes one of the framework's runtimes from them."""

    model: Any
    images: Any
    labels: np.ndarray
    build: Callable[[str], Runtime]
    take: Callable[[Any, np.ndarray], Any]  # images[indices], on the images' device
