"""Is a backend usable on this host? Asked at job time: a cluster node may differ from the
machine that planned the DAG. `absent_device` is the planning-time half: a device this host
certainly lacks, found without importing a framework, so a local run settles its skip records
before any job starts."""

from __future__ import annotations

import platform
import shutil
from pathlib import Path

from tradeoffs import registry

# Where an NVIDIA driver shows itself: its proc entry (Linux), its tool, WSL's GPU device.
NVIDIA_DRIVER_SIGNS = (Path("/proc/driver/nvidia"), Path("/dev/dxg"))


def absent_device(device: str) -> str | None:
    """Why this host certainly has no `device` ("cpu", "cuda", "mps"), or None when it may have
    one (the job's own check then decides)."""
    if device == "cuda" and not (
        shutil.which("nvidia-smi") or any(p.exists() for p in NVIDIA_DRIVER_SIGNS)
    ):
        return "no NVIDIA driver on this host (no nvidia-smi, no /proc/driver/nvidia)"
    if device == "mps" and (platform.system(), platform.machine()) != ("Darwin", "arm64"):
        return "Apple Metal (MPS) needs an Apple-silicon Mac"
    return None


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
