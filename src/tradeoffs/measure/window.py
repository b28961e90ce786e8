"""The training window: seconds, process CPU seconds and peak RSS of a block of training steps
between two device syncs (history.csv's and train.json's training measurements)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psutil

from tradeoffs.measure.memory import ResourceMonitor
from tradeoffs.records.history import Epoch

Scores = tuple[float | None, float | None]  # (loss, accuracy) on one split


@dataclass
class Window:
    """Seconds, process CPU seconds and peak RSS of one training window."""

    seconds: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0

    def epoch(
        self,
        epoch: int,
        samples: int,
        peak_vram_mb: float | None,
        *,
        train: Scores,
        val: Scores,
        test: Scores,
    ) -> Epoch:
        """Epoch `epoch`'s history record: this window's measurements with the epoch's scores
        (`val` is (None, None) when nothing is held out)."""
        return Epoch(
            epoch=epoch,
            samples=samples,
            train_s=self.seconds,
            cpu_s=self.cpu_s,
            train_loss=train[0],
            train_acc=train[1],
            test_loss=test[0],
            test_acc=test[1],
            peak_rss_mb=self.peak_rss_mb,
            peak_vram_mb=peak_vram_mb,
            val_loss=val[0],
            val_acc=val[1],
        )


@contextmanager
def training_window(sync: Callable[[], None]) -> Iterator[Window]:
    """Time a block of training steps between two device syncs, with its peak RSS and CPU time.
    Evaluation must happen outside the block."""
    window = Window()
    process = psutil.Process()
    with ResourceMonitor() as monitor:
        sync()
        cpu0 = process.cpu_times()
        start = time.perf_counter()
        yield window
        sync()
        window.seconds = time.perf_counter() - start
        cpu1 = process.cpu_times()
    window.cpu_s = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    window.peak_rss_mb = monitor.peak_rss_mb
