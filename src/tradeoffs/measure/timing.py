"""Repeated timing of a callable, with warm-up and a device synchronisation around each call."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# The clocks the ratio benchmarks (benchmarks/) time both sides of a ratio by: the process's
# CPU time (every thread's), which other processes on a shared machine inflate far less than
# wall time; or wall time, what a user waits on an idle machine.
RATIO_CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}


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
    fn: Callable[[], Any],
    repeats: int,
    sync: Callable[[], None] = no_sync,
    clock: Callable[[], float] = time.perf_counter,
) -> np.ndarray:
    """Wall time in milliseconds of each of `repeats` calls, each timed between two syncs."""
    samples = np.empty(repeats)
    for i in range(repeats):
        start, end = timed_call(fn, sync, clock)
        samples[i] = (end - start) * 1e3
    return samples


def timed_call(
    fn: Callable[[], Any],
    sync: Callable[[], None] = no_sync,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[float, float]:
    """The clock's readings (seconds) before one call of `fn` and after the sync that ends it.

    `clock` is injectable: the serving load generator runs on a simulated clock in tests."""
    start = clock()
    fn()
    sync()
    return start, clock()


class Clock:
    """The wall clock the serving load generator runs on: `now` is `time.perf_counter`, and
    `sleep_until` sleeps (never spins: the model needs the cores) until a reading."""

    def now(self) -> float:
        return time.perf_counter()

    def sleep_until(self, t: float) -> None:
        delay = t - time.perf_counter()
        if delay > 0:
            time.sleep(delay)


class SimulatedClock(Clock):
    """A discrete-event clock: time moves only when a caller sleeps or `advance`s it (a
    simulated predictor's service time), so the load generator's logic is tested exactly."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep_until(self, t: float) -> None:
        self.t = max(self.t, t)

    def advance(self, seconds: float) -> None:
        self.t += seconds
