"""A Keras callback that records history.csv's row and prints a progress line per epoch."""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # larq runs on Keras 2 only; before TF loads

import time
from collections.abc import Callable
from typing import Any

import tensorflow as tf

from tradeoffs.measure.memory import ResourceMonitor


class EpochRecorder(tf.keras.callbacks.Callback):
    """Per epoch: losses and accuracies, the training part's time and throughput (the test-set
    pass that follows it is left out), peak RSS/VRAM and CPU utilisation of the whole epoch."""

    def __init__(self, train_count: int, vram_mb: Callable[[], float | None]) -> None:
        super().__init__()
        self.train_count = train_count
        self.vram_mb = vram_mb
        self.rows: list[dict[str, Any]] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._monitor = ResourceMonitor().__enter__()
        self._start = time.perf_counter()
        self._train_s: float | None = None

    def on_test_begin(self, logs: dict | None = None) -> None:
        if self._train_s is None:
            self._train_s = time.perf_counter() - self._start

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._monitor.__exit__(None, None, None)
        logs = logs or {}
        train_s = self._train_s or time.perf_counter() - self._start
        row = {
            "epoch": epoch + 1,
            "train_loss": logs.get("loss"),
            "train_acc": logs.get("accuracy"),
            "test_loss": logs.get("val_loss"),
            "test_acc": logs.get("val_accuracy"),
            "epoch_time_s": train_s,
            "train_throughput_sps": self.train_count / train_s,
            "peak_rss_mb": self._monitor.peak_rss_mb,
            "peak_vram_mb": self.vram_mb(),
            "cpu_util_pct": self._monitor.cpu_util_pct,
        }
        self.rows.append(row)
        print(
            f"epoch {row['epoch']}: loss {row['train_loss']:.4f} acc {row['train_acc']:.4f} "
            f"test_loss {row['test_loss']:.4f} test_acc {row['test_acc']:.4f} "
            f"{train_s:.1f}s {row['train_throughput_sps']:.0f} samples/s "
            f"rss {row['peak_rss_mb']:.0f} MB cpu {row['cpu_util_pct']:.0f}%",
            flush=True,
        )
