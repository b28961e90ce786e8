"""Inference benchmark shared by every backend: latency at batch 1, throughput at a batch size.

A backend supplies `predict` (runs one batch, may return before the device is done), `sync`
(waits for the device) and batches already where `predict` reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tradeoffs.measure.energy import EnergyMeter
from tradeoffs.measure.memory import ResourceMonitor
from tradeoffs.measure.timing import no_sync, time_calls
from tradeoffs.records import measured


def benchmark_inference(
    predict: Callable[[Any], Any],
    single: Any,
    batch: Any,
    batch_size: int,
    *,
    warmup: int,
    repeats: int,
    sync: Callable[[], None] = no_sync,
    device: str = "cpu",
) -> dict[str, float | int | str | None]:
    """Latency percentiles of one sample and throughput of `batch_size` samples per call.

    Energy is measured around the throughput calls (warm-up included) where `device` has a
    counter (`tradeoffs.measure.energy`), per inference.
    """
    with ResourceMonitor() as monitor:
        latency = time_calls(lambda: predict(single), warmup=warmup, repeats=repeats, sync=sync)
        with EnergyMeter(device) as meter:
            batched = time_calls(lambda: predict(batch), warmup=warmup, repeats=repeats, sync=sync)
    return {
        "latency_ms_p50": latency.p50_ms,
        "latency_ms_p95": latency.p95_ms,
        "latency_ms_p99": latency.p99_ms,
        "latency_ms_mean": latency.mean_ms,
        "latency_ms_std": latency.std_ms,
        "batch_latency_ms_p50": batched.p50_ms,
        "batch_latency_ms_p95": batched.p95_ms,
        "bench_batch_size": batch_size,
        "infer_throughput_sps": batch_size / (batched.p50_ms / 1e3),
        "bench_warmup": warmup,
        "bench_repeats": repeats,
        "bench_peak_rss_mb": monitor.peak_rss_mb,
        "bench_cpu_util_pct": monitor.cpu_util_pct,
        **measured(
            "energy_measured_uj_per_inf",
            meter.per_item_uj((warmup + repeats) * batch_size),
            meter.source,
        ),
        "energy_measured_source": meter.source,
    }
