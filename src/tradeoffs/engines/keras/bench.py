"""The static costs of a Keras model that train.json records: larq's profile (parameters,
binary counts, MACs, footprint) and the sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tradeoffs.models.keras.profile import profile


def model_facts(model: tf.keras.Model, path: Path) -> dict[str, Any]:
    """train.json's facts of the model saved at `path`: its profile, the file's size and the
    weights' size in memory (stored as float32 whatever a binary layer deploys them as)."""
    weight_bytes = sum(int(np.prod(w.shape)) * w.dtype.size for w in model.weights)
    return {
        **profile(model),
        "size_disk_mb": path.stat().st_size / 2**20,
        "size_mem_mb": weight_bytes / 2**20,
    }
