"""The serving load generator: requests played against a predictor by one server loop, with a
bounded queue and optional dynamic batching, recording each request's queue, compute and total
time.

Requests come from a source: an open loop (a seeded Poisson schedule, MLPerf Inference's Server
scenario: the schedule, not the model, sets when a request arrives, so a slow model shows
queueing, never a shorter test) or a closed loop (a fixed number of clients, each sending its
next request when its last one is answered: Triton perf_analyzer's concurrency). One loop does
everything in the caller's thread: it admits the requests whose arrival time has passed, forms
a batch, calls the predictor and sleeps until the next arrival. The generator therefore never
runs while the model does (it cannot take a core from it), and with a `SimulatedClock` and a
predictor that advances it the same code is an exact discrete-event simulation.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from tradeoffs.measure.timing import Clock, no_sync, timed_call


@dataclass(frozen=True)
class Batching:
    """Dynamic batching: a batch is served once `max_batch` requests wait or the oldest has
    waited `max_wait_s` (or no other request can arrive before it is answered); `max_batch` 1
    serves each request alone."""

    max_batch: int = 1
    max_wait_s: float = 0.0

    def __post_init__(self) -> None:
        if self.max_batch < 1 or self.max_wait_s < 0:
            raise ValueError(f"batching needs max_batch >= 1 and max_wait >= 0, not {self}")


def poisson_arrivals(rate: float, duration_s: float, min_requests: int, seed: int) -> np.ndarray:
    """Arrival times (seconds from the start) of a Poisson process of `rate` requests per
    second, until `duration_s` has passed and at least `min_requests` have arrived (MLPerf's
    minimum duration and minimum query count).

    The gaps are one seeded stream of unit exponentials divided by the rate, so the schedules
    of one seed at different rates are the same schedule scaled in time."""
    if rate <= 0:
        raise ValueError(f"an arrival rate must be positive, not {rate}")
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.standard_exponential(max(min_requests, int(rate * duration_s)) + 16))
    while times[-1] / rate < duration_s:
        more = rng.standard_exponential(times.size)
        times = np.concatenate([times, times[-1] + np.cumsum(more)])
    times /= rate
    count = max(min_requests, int(np.searchsorted(times, duration_s)))
    return times[:count]


class Source(Protocol):
    """Where requests come from: the next arrival time (seconds from the start; None when no
    request can arrive before an answer), taking it, and hearing of answered requests."""

    def next_arrival(self) -> float | None: ...

    def take(self) -> float: ...

    def answered(self, count: int, at: float) -> None: ...


class OpenLoop:
    """A fixed arrival schedule (a Poisson process)."""

    def __init__(self, arrivals: np.ndarray) -> None:
        self.arrivals = np.asarray(arrivals, dtype=np.float64)
        self.index = 0

    def next_arrival(self) -> float | None:
        return float(self.arrivals[self.index]) if self.index < self.arrivals.size else None

    def take(self) -> float:
        self.index += 1
        return float(self.arrivals[self.index - 1])

    def answered(self, count: int, at: float) -> None:
        """An open loop does not wait for answers."""


class ClosedLoop:
    """`clients` clients sending back-to-back (no think time), from time 0 until
    `duration_s` has passed and `min_requests` have been sent."""

    def __init__(self, clients: int, duration_s: float, min_requests: int) -> None:
        if clients < 1:
            raise ValueError(f"a closed loop needs at least one client, not {clients}")
        self.pending: deque[float] = deque([0.0] * clients)
        self.duration_s = duration_s
        self.min_requests = min_requests
        self.sent = 0

    def next_arrival(self) -> float | None:
        return self.pending[0] if self.pending else None

    def take(self) -> float:
        self.sent += 1
        return self.pending.popleft()

    def answered(self, count: int, at: float) -> None:
        more = at < self.duration_s or self.sent + len(self.pending) < self.min_requests
        if more:
            self.pending.extend([at] * count)


@dataclass
class Served:
    """Every request of one load level, in arrival order, in seconds from the start; a request
    that found the queue full is dropped (its start and end are NaN, batch 0)."""

    arrival: np.ndarray
    start: np.ndarray
    end: np.ndarray
    batch: np.ndarray  # the size of the batch each request was served in
    batches: list[int] = field(default_factory=list)  # every batch's size, in order

    @property
    def answered(self) -> np.ndarray:
        return ~np.isnan(self.end)

    @property
    def dropped(self) -> int:
        return int((~self.answered).sum())

    @property
    def duration_s(self) -> float:
        """From the start to the last answer (or the last arrival)."""
        ends = self.end[self.answered]
        return float(max(ends.max(initial=0.0), self.arrival.max(initial=0.0)))

    @property
    def latency_ms(self) -> np.ndarray:
        return ((self.end - self.arrival) * 1e3)[self.answered]

    @property
    def queue_ms(self) -> np.ndarray:
        return ((self.start - self.arrival) * 1e3)[self.answered]

    @property
    def compute_ms(self) -> np.ndarray:
        return ((self.end - self.start) * 1e3)[self.answered]


def serve(
    source: Source,
    predictor: Callable[[Any], Any],
    batching: Batching,
    clock: Clock,
    queue_size: int,
    inputs: Callable[[np.ndarray], Any] = lambda ids: ids,
    sync: Callable[[], None] = no_sync,
) -> Served:
    """Serve every request of `source` with one worker: FIFO, batches as `batching` allows, at
    most `queue_size` requests waiting (a request arriving at a full queue is dropped).

    A batch's compute time is the predictor's call on `inputs(request ids)` (gathering the
    batch included) up to `sync`, read with `timing.timed_call` on `clock`."""
    arrival: list[float] = []
    start: list[float] = []
    end: list[float] = []
    size: list[int] = []
    batches: list[int] = []
    queue: deque[int] = deque()
    t0 = clock.now()
    while True:
        # Compared as clock readings: (t0 + a) - t0 may round below a, and never be admitted.
        now = clock.now()
        while (due := source.next_arrival()) is not None and t0 + due <= now:
            arrival.append(source.take())
            start.append(np.nan)
            end.append(np.nan)
            size.append(0)
            if len(queue) < queue_size:
                queue.append(len(arrival) - 1)
        upcoming = source.next_arrival()
        if not queue:
            if upcoming is None:
                break
            clock.sleep_until(t0 + upcoming)
            continue
        if len(queue) < batching.max_batch and upcoming is not None:
            deadline = arrival[queue[0]] + batching.max_wait_s
            if now < t0 + deadline:
                clock.sleep_until(t0 + min(deadline, upcoming))
                continue
        ids = np.array([queue.popleft() for _ in range(min(batching.max_batch, len(queue)))])
        began, done = timed_call(lambda ids=ids: predictor(inputs(ids)), sync, clock.now)
        for i in ids:
            start[i], end[i], size[i] = began - t0, done - t0, ids.size
        batches.append(int(ids.size))
        source.answered(int(ids.size), done - t0)
    return Served(
        np.array(arrival), np.array(start), np.array(end), np.array(size, dtype=np.int64), batches
    )
