"""Is a backend usable on this host? Asked at job time: a cluster node may differ from the
machine that planned the DAG."""

from __future__ import annotations

from tradeoffs import registry


def _torch(device: str) -> str | None:
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        return "torch-cuda: no CUDA device visible to PyTorch on this host"
    if device == "mps" and not torch.backends.mps.is_available():
        return "torch-mps: no Apple Metal (MPS) device on this host"
    return None


def _numba(device: str) -> str | None:
    if device != "cuda":
        return None
    from numba import cuda

    if not cuda.is_available():
        return "numba-cuda: no CUDA device visible to Numba on this host"
    return None


def _keras(device: str) -> str | None:
    if device == "cpu":
        return None
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        return "keras-gpu: no GPU visible to TensorFlow on this host"
    return None


_CHECKS = {"torch": _torch, "numba": _numba, "keras": _keras}


def unavailable_reason(backend: str) -> str | None:
    """Why `backend` cannot run here, or None when it can."""
    info = registry.BACKENDS[backend]
    return _CHECKS[info.framework](info.device)
