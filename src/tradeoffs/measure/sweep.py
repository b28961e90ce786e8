"""Batch-size sweep: per batch size, latency percentiles with bootstrap intervals and
throughput, timed until the p99 interval is narrow enough or the time budget is spent, and
stopped before a batch size projected past the memory budget.

Reported in MLPerf Inference's vocabulary: "single stream" is the p90 latency at batch 1,
"offline" the throughput at the best batch size.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import psutil

from tradeoffs.measure.memory import ResourceMonitor
from tradeoffs.measure.percentiles import latency_percentiles, percentile_ci, relative_width
from tradeoffs.measure.timing import no_sync, sample_calls, warm

MIN_SAMPLES = 5  # fewer calls than this say nothing about a tail, whatever the time budget


@dataclass(frozen=True)
class SweepSettings:
    """The study's `benchmark:` keys that shape the sweep (defaults: the config schema)."""

    batch_sizes: tuple[int, ...]
    warmup: int
    repeats: int  # the first block of timed calls; doubled until the p99 interval is narrow
    max_repeats: int
    max_seconds: float  # timed seconds per batch size
    p99_ci_rel: float  # target width of the p99 interval, as a fraction of p99
    memory_budget_mb: float  # growth of the process's memory a batch size may need

    @classmethod
    def from_cfg(cls, cfg: Mapping[str, Any], throughput_batch: int) -> SweepSettings:
        """`batch_sizes: null` sweeps batch 1 and the throughput batch size only."""
        sizes = cfg["batch_sizes"] or [throughput_batch]
        return cls(
            batch_sizes=tuple(sorted({1, *sizes})),
            warmup=cfg["warmup"],
            repeats=cfg["repeats"],
            max_repeats=cfg["max_repeats"],
            max_seconds=cfg["max_seconds"],
            p99_ci_rel=cfg["p99_ci_rel"],
            memory_budget_mb=cfg["memory_budget_mb"],
        )


def timed_samples(
    call: Callable[[], Any], settings: SweepSettings, sync: Callable[[], None] = no_sync
) -> np.ndarray:
    """Per-call milliseconds: `repeats` calls, then twice as many, ... until the p99 interval's
    relative width reaches the target, `max_repeats` calls or `max_seconds` of timed calls."""
    warm(call, settings.warmup, sync)
    samples = sample_calls(call, 1, sync)
    block = settings.repeats
    while samples.size < settings.max_repeats:
        room = (settings.max_seconds * 1e3 - samples.sum()) / max(float(np.median(samples)), 1e-6)
        n = min(block, int(room), settings.max_repeats - samples.size)
        n = max(n, MIN_SAMPLES - samples.size)
        if n <= 0:
            break
        samples = np.concatenate([samples, sample_calls(call, n, sync)])
        p99 = float(np.percentile(samples, 99))
        if relative_width(p99, percentile_ci(samples, 99)) <= settings.p99_ci_rel:
            break
        block = samples.size
    return samples


def _point(batch: int, samples: np.ndarray, target: float, peak_mb: float) -> dict[str, Any]:
    stats = latency_percentiles(samples)
    p50_low, p50_high = stats["latency_ms_p50_ci"]
    width = relative_width(stats["latency_ms_p99"], stats["latency_ms_p99_ci"])
    return {
        "batch_size": batch,
        "repeats": int(samples.size),
        **stats,
        "latency_ms_mean": float(samples.mean()),
        "latency_ms_std": float(samples.std()),
        "throughput_sps": batch * 1e3 / stats["latency_ms_p50"],
        "throughput_sps_ci": [batch * 1e3 / p50_high, batch * 1e3 / p50_low],
        "p99_ci_rel_width": width,
        "p99_ci_met": bool(width <= target),
        "peak_rss_growth_mb": peak_mb,
    }


def _is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, MemoryError) or "out of memory" in str(error).lower()


def sweep(
    make_call: Callable[[int], Callable[[], Any]],
    settings: SweepSettings,
    sync: Callable[[], None] = no_sync,
) -> dict[str, Any]:
    """Time `make_call(b)()` (one inference on a batch of b, placed before timing) for each
    batch size b. A batch size whose memory growth, projected linearly from the last one
    measured, exceeds the budget, or that runs out of memory, ends the sweep; the record says
    which and why (`sweep_stopped`)."""
    points: list[dict[str, Any]] = []
    stopped = None
    baseline_mb = psutil.Process().memory_info().rss / 2**20
    for batch in settings.batch_sizes:
        if points:
            last = points[-1]
            projected = last["peak_rss_growth_mb"] * batch / last["batch_size"]
            if projected > settings.memory_budget_mb:
                stopped = (
                    f"batch {batch}: projected memory growth {projected:.0f} MB exceeds the "
                    f"budget of {settings.memory_budget_mb:g} MB (benchmark.memory_budget_mb)"
                )
                break
        try:
            with ResourceMonitor() as monitor:
                samples = timed_samples(make_call(batch), settings, sync)
        except Exception as error:  # an allocator's own error type differs per framework
            if not _is_out_of_memory(error):
                raise
            stopped = f"batch {batch}: out of memory ({str(error).splitlines()[0]})"
            break
        growth = max(monitor.peak_rss_mb - baseline_mb, 0.0)
        points.append(_point(batch, samples, settings.p99_ci_rel, growth))
    return summarize_sweep(points, settings, stopped)


def summarize_sweep(
    points: list[dict[str, Any]], settings: SweepSettings, stopped: str | None
) -> dict[str, Any]:
    """The record's sweep keys: the points, batch 1's percentiles as the latency keys, MLPerf's
    single stream (batch 1 p90) and offline (best throughput) figures."""
    if not points or points[0]["batch_size"] != 1:
        raise RuntimeError(f"no measurement at batch 1: {stopped}")
    single = points[0]
    best = max(points, key=lambda p: p["throughput_sps"])
    latency = {k: v for k, v in single.items() if k.startswith("latency_ms_")}
    return {
        **latency,
        "single_stream_latency_ms": single["latency_ms_p90"],
        "single_stream_latency_ms_ci": single["latency_ms_p90_ci"],
        "offline_throughput_sps": best["throughput_sps"],
        "offline_throughput_sps_ci": best["throughput_sps_ci"],
        "offline_batch_size": best["batch_size"],
        "p99_ci_target": settings.p99_ci_rel,
        "p99_ci_met": all(p["p99_ci_met"] for p in points),
        "memory_budget_mb": settings.memory_budget_mb,
        "sweep_stopped": stopped,
        "sweep": points,
    }
