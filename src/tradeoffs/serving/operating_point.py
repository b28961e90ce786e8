"""The serving operating point: the highest Poisson arrival rate whose p99 latency meets a bound,
found by bisection, and the multi-stream levels (closed-loop clients) around it.

Minimum requests per load level: MLPerf Inference's early-stopping criterion, a one-sided
binomial test. If a fraction `1 - q` (0.01 for the p99) of requests truly exceeded the bound,
seeing only k of n over it would have probability `binom.cdf(k, n, 1 - q)`; when that is at most
`1 - confidence` the q-th percentile is within the bound at that confidence. With k = 0 the
smallest such n is the fewest requests that can show a p99 within the bound at all (299 at 95%
confidence), so every load level runs at least that many, however short `duration_s` is.

The bisection's bracket is [0, 1.1 x capacity], the capacity being the best throughput of the
closed-loop levels (at `max_batch` clients every batch is full, the server's best case); an open
loop at or above capacity has no finite p99. The bracket's top is tested first (and doubled while
it passes, should the closed loop have underestimated the capacity; this level also shows the
knee), then the bracket is halved until it is narrower than `resolution` x capacity: 1 +
ceil(log2(1.1 / resolution)) rates in all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from tradeoffs.measure.percentiles import percentile_ci
from tradeoffs.measure.timing import Clock, no_sync
from tradeoffs.serving.loadgen import Batching, ClosedLoop, OpenLoop, Served, poisson_arrivals
from tradeoffs.serving.loadgen import serve as serve_source

PERCENTILE = 99
BRACKET = 1.1  # the bisection's top, as a multiple of the measured capacity


def early_stopping_met(over: int, requests: int, percentile: float, confidence: float) -> bool:
    """MLPerf's early-stopping test: do `requests` with `over` of them above the bound show the
    `percentile`-th percentile within it at `confidence`? (binomial, scipy.stats)"""
    tail = 1 - percentile / 100
    return bool(stats.binom.cdf(over, requests, tail) <= 1 - confidence)


def min_requests(percentile: float = PERCENTILE, confidence: float = 0.95) -> int:
    """The fewest requests that can pass `early_stopping_met` (none over the bound)."""
    tail = 1 - percentile / 100
    n = max(1, math.ceil(math.log(1 - confidence) / math.log1p(-tail)) - 1)
    while not early_stopping_met(0, n, percentile, confidence):
        n += 1
    return n


@dataclass(frozen=True)
class ServingSettings:
    """A study's `serving:` keys (defaults: the config schema)."""

    p99_ms: float
    duration_s: float  # each load level's minimum duration
    batching: Batching
    queue_size: int
    confidence: float
    resolution: float
    clients: tuple[int, ...]  # the multi-stream levels
    seed: int = 0

    @property
    def min_requests(self) -> int:
        return min_requests(PERCENTILE, self.confidence)

    @classmethod
    def from_cfg(cls, cfg: Mapping[str, Any], cores: int, seed: int = 0) -> ServingSettings:
        """Multi-stream levels 1, 2, 4 ... up to `cores`, and `max_batch` (full batches)."""
        batching = Batching(cfg["batching"]["max_batch"], cfg["batching"]["max_wait_ms"] / 1e3)
        levels = {2**i for i in range(int(math.log2(max(cores, 1))) + 1)}
        return cls(
            p99_ms=cfg["p99_ms"],
            duration_s=cfg["duration_s"],
            batching=batching,
            queue_size=cfg["queue_size"],
            confidence=cfg["confidence"],
            resolution=cfg["resolution"],
            clients=tuple(sorted(levels | {batching.max_batch})),
            seed=seed,
        )


@dataclass(frozen=True)
class Server:
    """A predictor as the generator serves it: `predictor(inputs(ids))`, synced, on `clock`."""

    predictor: Callable[[Any], Any]
    clock: Clock
    inputs: Callable[[np.ndarray], Any] = lambda ids: ids
    sync: Callable[[], None] = no_sync

    def serve(self, source: Any, settings: ServingSettings, batching: Batching | None = None):
        batching = settings.batching if batching is None else batching
        return serve_source(
            source,
            self.predictor,
            batching,
            self.clock,
            settings.queue_size,
            self.inputs,
            self.sync,
        )


def intervals(latency_ms: np.ndarray, seed: int) -> dict[str, list[float] | None]:
    """The p50 and p99 bootstrap intervals (`measure.percentiles`). Only the operating level's
    are computed: 1000 resamples of thousands of requests take a second on a busy core."""
    return {
        f"latency_ms_p{q}_ci": list(percentile_ci(latency_ms, q, seed))
        if latency_ms.size >= 2
        else None
        for q in (50, 99)
    }


def level_summary(served: Served, settings: ServingSettings) -> dict[str, Any]:
    """One load level: requests, how long it ran, latency p50/p99, the shares of queue and
    compute time, the batch sizes used, and MLPerf's early-stopping test."""
    latency = served.latency_ms
    answered = latency.size
    p50, p99 = (float(np.percentile(latency, q)) if answered else math.inf for q in (50, 99))
    over = int((latency > settings.p99_ms).sum()) + served.dropped
    sizes, counts = np.unique(served.batches, return_counts=True)
    return {
        "requests": int(served.arrival.size),
        "dropped": served.dropped,
        "duration_s": served.duration_s,
        "throughput_qps": answered / served.duration_s if served.duration_s > 0 else None,
        "latency_ms_p50": p50,
        "latency_ms_p99": p99,
        "queue_ms_mean": float(served.queue_ms.mean()) if answered else None,
        "compute_ms_mean": float(served.compute_ms.mean()) if answered else None,
        "queue_share": float(served.queue_ms.sum() / latency.sum()) if answered else None,
        "batch_mean": float(np.mean(served.batches)) if served.batches else None,
        "batch_sizes": {int(s): int(c) for s, c in zip(sizes, counts, strict=True)},
        "over_bound": over,
        "early_stopping_met": early_stopping_met(
            over, int(served.arrival.size), PERCENTILE, settings.confidence
        ),
    }


def offered_level(
    server: Server, rate: float, settings: ServingSettings
) -> tuple[dict[str, Any], np.ndarray]:
    """An open-loop level at `rate` requests/s and its latencies (ms): it meets the bound when
    its p99 does and no request was dropped."""
    arrivals = poisson_arrivals(rate, settings.duration_s, settings.min_requests, settings.seed)
    served = server.serve(OpenLoop(arrivals), settings)
    level = level_summary(served, settings)
    meets = level["dropped"] == 0 and level["latency_ms_p99"] <= settings.p99_ms
    return {"offered_qps": rate, **level, "meets": bool(meets)}, served.latency_ms


def offered(server: Server, rate: float, settings: ServingSettings) -> dict[str, Any]:
    """`offered_level` with its p50 and p99 intervals."""
    level, latency = offered_level(server, rate, settings)
    return {**level, **intervals(latency, settings.seed)}


def multistream(server: Server, settings: ServingSettings) -> list[dict[str, Any]]:
    """Per level of concurrent clients, each sending back-to-back: throughput and latency."""
    levels = []
    for clients in settings.clients:
        source = ClosedLoop(clients, settings.duration_s, settings.min_requests)
        levels.append(
            {"clients": clients, **level_summary(server.serve(source, settings), settings)}
        )
    return levels


def bisect_rates(
    server: Server, capacity: float, settings: ServingSettings
) -> tuple[list[dict[str, Any]], dict[float, np.ndarray]]:
    """The open-loop levels of the search, in the order run, and the latencies of each rate:
    the bracket's top first (doubled while it meets the bound: the closed loop underestimated
    the capacity), then bisection until the bracket is narrower than `resolution` x
    capacity."""
    low, high = 0.0, BRACKET * capacity
    points, latencies = [], {}
    while True:
        top, latencies[high] = offered_level(server, high, settings)
        points.append(top)
        if not top["meets"]:
            break
        low, high = high, 2 * high
    while high - low > settings.resolution * capacity:
        rate = (low + high) / 2
        point, latencies[rate] = offered_level(server, rate, settings)
        points.append(point)
        low, high = (rate, high) if point["meets"] else (low, rate)
    return points, latencies


def operating_point(server: Server, settings: ServingSettings) -> dict[str, Any]:
    """`server_qps` (the highest tested rate that met the bound; null with the reason when none
    did) and its level's latencies with their intervals, the bisection's levels and the
    multi-stream levels.

    When one client alone (no queueing at all) already has a p99 over the bound, no arrival rate
    can meet it and the bisection is not run."""
    streams = multistream(server, settings)
    capacity = max(level["throughput_qps"] or 0.0 for level in streams)
    alone = streams[0]
    points: list[dict[str, Any]] = []
    latencies: dict[float, np.ndarray] = {}
    reason = None
    if alone["latency_ms_p99"] > settings.p99_ms:
        reason = (
            f"one client alone has p99 {alone['latency_ms_p99']:.3g} ms > "
            f"{settings.p99_ms:g} ms: no arrival rate can meet the bound"
        )
    elif capacity > 0:
        points, latencies = bisect_rates(server, capacity, settings)
        if not any(p["meets"] for p in points):
            reason = f"no rate tested met p99 <= {settings.p99_ms:g} ms"
    best = max((p for p in points if p["meets"]), key=lambda p: p["offered_qps"], default=None)
    if best is not None:
        best = {**best, **intervals(latencies[best["offered_qps"]], settings.seed)}
    return {
        "server_qps": best["offered_qps"] if best else None,
        "server_qps_reason": reason,
        "capacity_qps": capacity,
        "operating": best,
        "points": sorted(points, key=lambda p: p["offered_qps"]),
        "multistream": streams,
    }
