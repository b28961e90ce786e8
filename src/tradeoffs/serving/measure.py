"""The measurements of serving/{runtime}.json: the runtime bench/{runtime}.json measured, built
again from the engine's loaded model, served under load by the load generator on the wall
clock. The serving job (`tradeoffs.jobs.serving`) writes the record."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from tradeoffs.measure.timing import Clock
from tradeoffs.runspec import RunSpec
from tradeoffs.runtimes.base import Loaded, Runtime, UnsupportedError
from tradeoffs.serving.operating_point import (
    Server,
    ServingSettings,
    offered_level,
    operating_point,
)

# The operating level's keys the record lifts to its top (`server_` + key).
OPERATING_KEYS = (
    "latency_ms_p50",
    "latency_ms_p50_ci",
    "latency_ms_p99",
    "latency_ms_p99_ci",
    "queue_share",
    "batch_mean",
    "batch_sizes",
    "requests",
    "duration_s",
)


def cores() -> int:
    """The cores this process may run on (its affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def settings_of(spec: RunSpec) -> ServingSettings:
    return ServingSettings.from_cfg(spec.study_config["serving"], cores(), seed=spec.seed)


def warm_up(server: Server, max_batch: int) -> None:
    """One untimed call per batch size the server can form (a static-shape runtime compiles
    each one at its first call)."""
    for size in range(1, max_batch + 1):
        server.predictor(server.inputs(np.arange(size)))
        server.sync()


def runtime_server(runtime: Runtime, images: Any, take: Any, count: int) -> Server:
    """Request i is test image i (cycled); a batch is gathered and placed inside its timing."""
    return Server(
        runtime.call,
        Clock(),
        lambda ids: runtime.place(take(images, ids % count)),
        runtime.sync,
    )


def overhead(settings: ServingSettings, rate: float) -> dict[str, Any]:
    """The generator's own latency: an empty predictor served at `rate` requests/s."""
    level, _ = offered_level(Server(lambda batch: None, Clock()), rate, settings)
    return {"overhead_p99_ms": level["latency_ms_p99"], "overhead_rate_qps": rate}


def measure(spec: RunSpec, name: str, loaded: Loaded) -> dict[str, Any]:
    """The operating point, the bisection's levels and the multi-stream levels of runtime
    `name` built from the run's `loaded` model, with the settings, the thread counts and the
    generator's overhead."""
    settings = settings_of(spec)
    try:
        runtime = loaded.build(name)
    except UnsupportedError as error:
        return {"status": "skipped", "reason": str(error)}
    server = runtime_server(runtime, loaded.images, loaded.take, len(loaded.labels))
    began = time.perf_counter()
    warm_up(server, settings.batching.max_batch)
    found = operating_point(server, settings)
    operating = found.pop("operating") or {}
    rate = found["server_qps"] or found["capacity_qps"]
    return {
        "status": "ok",
        "reason": None,
        "p99_bound_ms": settings.p99_ms,
        **{k: found[k] for k in ("server_qps", "server_qps_reason", "capacity_qps")},
        **{f"server_{k}": operating.get(k) for k in OPERATING_KEYS},
        "max_batch": settings.batching.max_batch,
        "max_wait_ms": settings.batching.max_wait_s * 1e3,
        "queue_size": settings.queue_size,
        "min_requests": settings.min_requests,
        "confidence": settings.confidence,
        "resolution": settings.resolution,
        "threads": spec.threads,
        "cpu_cores": cores(),
        **overhead(settings, rate),
        "serving_wall_s": time.perf_counter() - began,
        "points": found["points"],
        "multistream": found["multistream"],
    }
