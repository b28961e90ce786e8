"""model.npz: the trained parameters as MnistCNN's state dict (torch's names and layouts) and the
input standardisation (`norm_mean`, `norm_std`); and the model built on the run's device."""

from __future__ import annotations

from typing import Any

import numpy as np

from tradeoffs import io
from tradeoffs.fileformat import FileFormat, require
from tradeoffs.models.numba import layout
from tradeoffs.runspec import RunSpec


def build(
    spec: RunSpec, theta: np.ndarray, num_classes: int, norm: layout.Norm, batch_size: int
) -> Any:
    """The model on the run's device (CUDA: device buffers sized for `batch_size`)."""
    if spec.device == "cuda":
        from tradeoffs.models.numba.cuda import CudaModel

        return CudaModel(theta, num_classes, norm, batch_size)
    from tradeoffs.models.numba.cpu import CpuModel

    return CpuModel(theta, num_classes, norm)


def load(spec: RunSpec) -> tuple[np.ndarray, int, layout.Norm]:
    """The trained parameters (flat), the class count and the input standardisation; only an
    npz of plain arrays is read (`UnexpectedFormatError` otherwise)."""
    require(spec.model_path, FileFormat.NUMPY_ZIP)
    with np.load(spec.model_path, allow_pickle=False) as npz:
        state = {name: npz[name] for name in npz.files}
    norm = layout.Norm(float(state.pop("norm_mean")[0]), float(state.pop("norm_std")[0]))
    return layout.from_torch(state), state["fc2.bias"].shape[0], norm


def save(spec: RunSpec, theta: np.ndarray, num_classes: int, norm: layout.Norm) -> None:
    """model.npz: MnistCNN's state dict and, per channel as the torch meta, `norm_mean` and
    `norm_std`."""
    with io.atomic_path(spec.model_path) as tmp, tmp.open("wb") as handle:
        np.savez(
            handle,
            **layout.to_torch(theta, num_classes),
            norm_mean=np.array([norm.mean]),
            norm_std=np.array([norm.std]),
        )
