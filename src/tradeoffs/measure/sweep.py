"""Batch-size sweep, the one way inference is timed: per batch size, latency percentiles with
bootstrap intervals and throughput, timed until the p99 interval is narrow enough or the time
budget is spent, and stopped before a batch size projected past the memory budget.

Every timing key of bench/{runtime}.json comes from it: batch 1 gives the latency keys, the
study's throughput batch size (`benchmark.batch_size`, always swept) the batched latency, the
throughput and the measured energy; memory and CPU use are the whole sweep's. Reported also in
MLPerf Inference's vocabulary: "single stream" is the p90 latency at batch 1, "offline" the
throughput at the best batch size.

Memory: a batch's growth is a fixed part (allocator arenas, workspaces: ~16 MB at batch 1 for
torch) plus a part per sample. Two measured batch sizes give both (the line through the last
two); with one, the next batch's worst case is all of it per sample, and where that worst case
passes the budget one untimed call at the largest batch it allows measures a second point.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import psutil

from tradeoffs.measure.energy import EnergyMeter
from tradeoffs.measure.memory import ResourceMonitor
from tradeoffs.measure.percentiles import latency_percentiles, percentile_ci, relative_width
from tradeoffs.measure.timing import no_sync, sample_calls, warm
from tradeoffs.records.nulls import measured

MIN_SAMPLES = 5  # fewer calls than this say nothing about a tail, whatever the time budget


@dataclass(frozen=True)
class SweepSettings:
    """The study's `benchmark:` keys that shape the sweep (defaults: the config schema)."""

    batch_sizes: tuple[int, ...]
    throughput_batch: int  # the batch size of the throughput, batched-latency and energy keys
    warmup: int
    repeats: int  # the first block of timed calls; doubled until the p99 interval is narrow
    max_repeats: int
    max_seconds: float  # timed seconds per batch size
    p99_ci_rel: float  # target width of the p99 interval, as a fraction of p99
    memory_budget_mb: float  # growth of the process's memory a batch size may need

    @classmethod
    def from_cfg(cls, cfg: Mapping[str, Any], throughput_batch: int) -> SweepSettings:
        """Batch 1, the throughput batch size and `batch_sizes` (null: no others)."""
        return cls(
            batch_sizes=tuple(sorted({1, throughput_batch, *(cfg["batch_sizes"] or [])})),
            throughput_batch=throughput_batch,
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


@dataclass(frozen=True)
class _Growth:
    """A measured memory growth (MB) at a batch size."""

    batch: int
    mb: float


def _projection(batch: int, growth: list[_Growth]) -> tuple[float, str]:
    """Projected growth at `batch`, and how it was projected: along the line through the last
    two measurements (slope at least 0, never below the last), or, from one, as if all of it
    grew per sample."""
    last = growth[-1]
    if len(growth) == 1:
        return last.mb * batch / last.batch, f"{last.mb:.0f} MB at batch {last.batch}, per sample"
    first = growth[-2]
    per_sample = max((last.mb - first.mb) / (last.batch - first.batch), 0.0)
    fixed = last.mb - per_sample * last.batch
    how = (
        f"{fixed:.0f} MB fixed + {per_sample:.3g} MB per sample, from batches "
        f"{first.batch} and {last.batch}"
    )
    return last.mb + per_sample * (batch - last.batch), how


def _measure_growth(call: Callable[[], Any], sync: Callable[[], None], baseline_mb: float) -> float:
    with ResourceMonitor() as monitor:
        call()
        sync()
    return max(monitor.peak_rss_mb - baseline_mb, 0.0)


def sweep(
    make_call: Callable[[int], Callable[[], Any]],
    settings: SweepSettings,
    sync: Callable[[], None] = no_sync,
    device: str = "cpu",
) -> dict[str, Any]:
    """Time `make_call(b)()` (one inference on a batch of b, placed before timing) for each
    batch size b, with the energy of the throughput batch's calls on `device` where a counter
    is readable. A batch size whose projected memory growth (module doc) exceeds the budget,
    or that runs out of memory, ends the sweep; the record says which and why
    (`sweep_stopped`)."""
    points: list[dict[str, Any]] = []
    growth: list[_Growth] = []
    stopped = None
    meter = EnergyMeter(device)
    energy_uj = None
    budget = settings.memory_budget_mb
    baseline_mb = psutil.Process().memory_info().rss / 2**20
    with ResourceMonitor() as whole:
        for batch in settings.batch_sizes:
            try:
                if growth:
                    projected, how = _projection(batch, growth)
                    probe = int(budget * growth[-1].batch / max(growth[-1].mb, 1e-9))
                    if projected > budget and len(growth) == 1 and growth[0].batch < probe:
                        # the worst case does not fit: measure where it does, then fit a line
                        mb = _measure_growth(make_call(probe), sync, baseline_mb)
                        growth.append(_Growth(probe, mb))
                        projected, how = _projection(batch, growth)
                    if projected > budget:
                        stopped = (
                            f"batch {batch}: projected memory growth {projected:.0f} MB ({how}) "
                            f"exceeds the budget of {budget:g} MB (benchmark.memory_budget_mb)"
                        )
                        break
                metered = meter if batch == settings.throughput_batch else contextlib.nullcontext()
                with ResourceMonitor() as monitor, metered:
                    samples = timed_samples(make_call(batch), settings, sync)
            except Exception as error:  # an allocator's own error type differs per framework
                if not _is_out_of_memory(error):
                    raise
                stopped = f"batch {batch}: out of memory ({str(error).splitlines()[0]})"
                break
            if batch == settings.throughput_batch:
                energy_uj = meter.per_item_uj((settings.warmup + samples.size) * batch)
            mb = max(monitor.peak_rss_mb - baseline_mb, 0.0)
            growth.append(_Growth(batch, mb))
            points.append(_point(batch, samples, settings.p99_ci_rel, mb))
    usage = {
        "bench_peak_rss_mb": whole.peak_rss_mb,
        "bench_cpu_util_pct": whole.cpu_util_pct,
        **measured("energy_measured_uj_per_inf", energy_uj, meter.source),
        "energy_measured_source": meter.source,
    }
    return {**summarize_sweep(points, settings, stopped), **usage}


def summarize_sweep(
    points: list[dict[str, Any]], settings: SweepSettings, stopped: str | None
) -> dict[str, Any]:
    """The record's timing keys: batch 1's percentiles as the latency keys, the throughput
    batch's latency and throughput, MLPerf's single stream (batch 1 p90) and offline (best
    throughput) figures, and the points."""
    if not points or points[0]["batch_size"] != 1:
        raise RuntimeError(f"no measurement at batch 1: {stopped}")
    single = points[0]
    best = max(points, key=lambda p: p["throughput_sps"])
    latency = {k: v for k, v in single.items() if k.startswith("latency_ms_")}
    batched = next((p for p in points if p["batch_size"] == settings.throughput_batch), {})
    return {
        **latency,
        **measured("batch_latency_ms_p50", batched.get("latency_ms_p50"), stopped),
        **measured("batch_latency_ms_p95", batched.get("latency_ms_p95"), stopped),
        **measured("infer_throughput_sps", batched.get("throughput_sps"), stopped),
        "infer_throughput_sps_ci": batched.get("throughput_sps_ci"),
        "bench_batch_size": settings.throughput_batch,
        "bench_warmup": settings.warmup,
        "bench_repeats": single["repeats"],
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
