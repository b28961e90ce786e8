"""A prepared dataset as the numba model takes it: uint8 images adapted to its input shape,
int64 labels."""

from __future__ import annotations

import numpy as np

from tradeoffs.data.prepared import Prepared, adapt_images, load_prepared
from tradeoffs.models.numba import layout
from tradeoffs.runspec import RunSpec

INPUT_SHAPE = (layout.IMAGE, layout.IMAGE, 1)


def adapted(images: np.ndarray) -> np.ndarray:
    """uint8 NHWC images of any size and channel count, as the model takes them."""
    return adapt_images(images, INPUT_SHAPE)


def load_data(spec: RunSpec, dataset: str | None = None) -> Prepared:
    """`dataset`'s (default: the run's) prepared splits, adapted."""
    data = load_prepared(spec.prepared_dir(dataset))
    return Prepared(
        train_x=adapted(data.train_x),
        train_y=data.train_y.astype(np.int64),
        test_x=adapted(data.test_x),
        test_y=data.test_y.astype(np.int64),
        meta=data.meta,
    )
