"""Process-wide torch set-up for one run, and the device facts every record reports."""

from __future__ import annotations

from collections.abc import Callable

import torch

from tradeoffs.measure.timing import no_sync
from tradeoffs.records.provenance import cpu_name
from tradeoffs.runspec import RunSpec
from tradeoffs.seeding import seed_everything


def configure(spec: RunSpec, *, training: bool = False) -> torch.device:
    """Threads, seeds and, for training on the CPU, deterministic kernels; returns the run's
    device.

    Inference leaves the flag alone: a forward pass on the CPU runs no kernel that the flag
    changes, and setting it imports torch's compiler stack (about 1.3 s per evaluate or
    benchmark job)."""
    torch.set_num_threads(spec.threads)
    seed_everything(spec.seed)
    device = torch.device(spec.device)
    if training and device.type == "cpu":
        torch.use_deterministic_algorithms(True)
    return device


def sync_for(device: torch.device) -> Callable[[], None]:
    """What waits for queued kernels on `device` (nothing on the CPU)."""
    if device.type == "cuda":
        return torch.cuda.synchronize
    if device.type == "mps":
        return torch.mps.synchronize
    return no_sync


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple MPS"
    return cpu_name()


def reset_peak_vram(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_vram_mb(device: torch.device) -> float | None:
    """Peak memory torch allocated on the GPU since the last reset (on MPS, which has no peak
    counter, the driver's current allocation); None on the CPU."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    if device.type == "mps":
        return torch.mps.driver_allocated_memory() / 2**20
    return None
