"""Peak resident memory and CPU utilisation of this process over a block of work."""

from __future__ import annotations

import os
import threading
import time
from types import TracebackType

import psutil


class ResourceMonitor:
    """Sample RSS in a background thread; report the peak and the CPU utilisation.

    `cpu_util_pct` is process CPU time over wall time, in percent of one core (200 means two
    cores busy), the figure seed 003 asks for.
    """

    def __init__(self, interval_s: float = 0.02) -> None:
        self._interval = interval_s
        self._process = psutil.Process(os.getpid())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.peak_rss_mb = 0.0
        self.cpu_util_pct = 0.0
        self.wall_s = 0.0

    def _rss_mb(self) -> float:
        return self._process.memory_info().rss / 2**20

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak_rss_mb = max(self.peak_rss_mb, self._rss_mb())

    def __enter__(self) -> ResourceMonitor:
        self.peak_rss_mb = self._rss_mb()
        self._cpu0 = self._process.cpu_times()
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.wall_s = time.perf_counter() - self._t0
        cpu1 = self._process.cpu_times()
        busy = (cpu1.user - self._cpu0.user) + (cpu1.system - self._cpu0.system)
        self.cpu_util_pct = 100.0 * busy / self.wall_s if self.wall_s > 0 else 0.0
        self.peak_rss_mb = max(self.peak_rss_mb, self._rss_mb())
