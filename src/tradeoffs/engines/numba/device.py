"""numba set-up for one run (threads), and the device facts every record reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from tradeoffs.measure.timing import no_sync
from tradeoffs.records.provenance import now, provenance
from tradeoffs.runspec import RunSpec


def configure(spec: RunSpec) -> None:
    """The run's threads, at most numba's own thread count."""
    numba.set_num_threads(max(1, min(spec.threads, numba.config.NUMBA_NUM_THREADS)))


def sync_for(spec: RunSpec) -> Callable[[], None]:
    """What waits for queued kernels on the run's device (nothing on the CPU)."""
    if spec.device == "cuda":
        from numba import cuda

        return cuda.synchronize
    return no_sync


def device_name(spec: RunSpec) -> str:
    if spec.device == "cuda":
        from numba import cuda

        name = cuda.get_current_device().name
        return name.decode() if isinstance(name, bytes) else name
    return provenance(spec, now())["cpu"]


def peak_vram_mb(spec: RunSpec) -> float | None:
    """Device memory in use (all processes: numba has no per-process peak), or None on CPU."""
    if spec.device != "cuda":
        return None
    from numba import cuda

    free, total = cuda.current_context().get_memory_info()
    return (total - free) / 2**20


def host(array: Any) -> np.ndarray:
    """A copy on the host of a NumPy or numba device array."""
    return array.copy_to_host() if hasattr(array, "copy_to_host") else np.array(array)
