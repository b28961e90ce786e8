"""Repeated timing of a callable, with warm-up and a device synchronisation around each call."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


def no_sync() -> None:
    """The synchronisation of a device whose calls return only when done (CPU)."""


@dataclass(frozen=True)
class Timing:
    """Wall times of repeated calls, in milliseconds."""

    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    std_ms: float
    min_ms: float
    repeats: int
    warmup: int


def summarize(samples_ms: np.ndarray | list[float], warmup: int = 0) -> Timing:
    samples = np.asarray(samples_ms, dtype=np.float64)
    if samples.size == 0:
        raise ValueError("no timing samples")
    p50, p95, p99 = np.percentile(samples, [50, 95, 99])
    return Timing(
        p50_ms=float(p50),
        p95_ms=float(p95),
        p99_ms=float(p99),
        mean_ms=float(samples.mean()),
        std_ms=float(samples.std()),
        min_ms=float(samples.min()),
        repeats=int(samples.size),
        warmup=warmup,
    )


def time_calls(
    fn: Callable[[], Any],
    *,
    warmup: int,
    repeats: int,
    sync: Callable[[], None] = no_sync,
) -> Timing:
    """Call `fn` `warmup` times untimed, then `repeats` times, each timed between two syncs."""
    warm(fn, warmup, sync)
    return summarize(sample_calls(fn, repeats, sync), warmup)


def warm(fn: Callable[[], Any], warmup: int, sync: Callable[[], None] = no_sync) -> None:
    """Untimed calls that let caches, allocators and lazy compilation settle."""
    for _ in range(warmup):
        fn()
    sync()


def sample_calls(
    fn: Callable[[], Any], repeats: int, sync: Callable[[], None] = no_sync
) -> np.ndarray:
    """Wall time in milliseconds of each of `repeats` calls, each timed between two syncs."""
    samples = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        samples[i] = (time.perf_counter() - start) * 1e3
    return samples
