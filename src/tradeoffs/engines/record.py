"""The one place that turns per-epoch facts into history.csv rows and train.json's training keys,
shared by every engine, so a column means the same thing in every row of a study.

Definitions (also in docs/architecture.md, "Metrics"):
- `train_time_s`: seconds spent in training steps, summed over epochs (evaluation excluded).
- `epoch_time_s`: the median epoch's training seconds.
- `train_throughput_sps`: training samples / `train_time_s`.
- `best_epoch`: the epoch whose weights were saved to the model file (with `best_checkpoint`,
  the best validation accuracy's).
- history.csv's `test_loss`/`test_acc` are the learning curve on the test set, per epoch; they
  choose nothing (`val_loss`/`val_acc`, on the validation split, do: `engines/selection.py`).
- `peak_rss_mb`, `peak_vram_mb`, `cpu_util_pct`: over the training steps only; `cpu_util_pct` is
  process CPU seconds / training seconds, in percent of one core.
A value an engine cannot measure (device memory on a CPU) is None, with `<key>_reason` beside it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import psutil

from tradeoffs import io, records
from tradeoffs.measure.memory import ResourceMonitor
from tradeoffs.runspec import RunSpec


@dataclass(frozen=True)
class Epoch:
    """What an engine measured in one epoch. `train_s`, `cpu_s`, `peak_rss_mb` and
    `peak_vram_mb` cover the training steps only (device synced at both ends)."""

    epoch: int
    samples: int
    train_s: float
    cpu_s: float
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float
    peak_rss_mb: float
    peak_vram_mb: float | None
    val_loss: float | None = None  # on the validation split; None when nothing chooses on it
    val_acc: float | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Epoch:
        """Back from a checkpoint's JSON (resume)."""
        return cls(**row)


@dataclass
class Window:
    """Seconds, process CPU seconds and peak RSS of one training window."""

    seconds: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0


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


def history_row(e: Epoch) -> dict[str, Any]:
    """history.csv's row of an epoch (`records.HISTORY_COLUMNS`)."""
    return {
        "epoch": e.epoch,
        "train_loss": e.train_loss,
        "train_acc": e.train_acc,
        "test_loss": e.test_loss,
        "test_acc": e.test_acc,
        "val_loss": e.val_loss,
        "val_acc": e.val_acc,
        "epoch_time_s": e.train_s,
        "train_throughput_sps": e.samples / e.train_s,
        "peak_rss_mb": e.peak_rss_mb,
        "peak_vram_mb": e.peak_vram_mb,
        "cpu_util_pct": 100.0 * e.cpu_s / e.train_s,
    }


def progress_line(e: Epoch, epochs: int) -> str:
    """The log's line for an epoch."""
    row = history_row(e)
    val = "" if e.val_acc is None else f"val_loss {e.val_loss:.4f} val_acc {e.val_acc:.4f} "
    return (
        f"epoch {e.epoch}/{epochs} train_loss {e.train_loss:.4f} train_acc {e.train_acc:.4f} "
        f"{val}test_loss {e.test_loss:.4f} test_acc {e.test_acc:.4f} time {e.train_s:.2f}s "
        f"{row['train_throughput_sps']:.0f} samples/s"
    )


def training_keys(epochs: list[Epoch], best_epoch: int | None) -> dict[str, Any]:
    """train.json's training keys, each by its one definition (module docstring)."""
    if not epochs:
        return {"epochs_run": 0, "best_epoch": None}
    seconds = sum(e.train_s for e in epochs)
    vram = [e.peak_vram_mb for e in epochs if e.peak_vram_mb is not None]
    keys: dict[str, Any] = {
        "train_time_s": seconds,
        "epoch_time_s": statistics.median(e.train_s for e in epochs),
        "train_throughput_sps": sum(e.samples for e in epochs) / seconds,
        "epochs_run": len(epochs),
        "best_epoch": best_epoch,
        "peak_rss_mb": max(e.peak_rss_mb for e in epochs),
        **records.measured("peak_vram_mb", max(vram) if vram else None, records.NO_DEVICE_MEMORY),
        "cpu_util_pct": 100.0 * sum(e.cpu_s for e in epochs) / seconds,
    }
    return keys


TRAINING_MEASUREMENTS = (
    "train_time_s",
    "epoch_time_s",
    "train_throughput_sps",
    "peak_rss_mb",
    "peak_vram_mb",
    "cpu_util_pct",
)


def not_trained_keys(reason: str) -> dict[str, Any]:
    """train.json's training keys of a model that was not trained here (a pretrained file):
    each measurement null, with `reason`, and no best epoch."""
    keys: dict[str, Any] = {"best_epoch_reason": reason}
    for key in TRAINING_MEASUREMENTS:
        keys.update(records.measured(key, None, reason))
    return keys


def write_outputs(
    spec: RunSpec,
    epochs: list[Epoch],
    *,
    best_epoch: int | None,
    failure: str | None,
    device_name: str,
    started: str,
    validation: dict[str, Any] | None = None,
    provenance_extra: dict[str, Any] | None = None,
    **extra: Any,
) -> None:
    """history.csv and train.json (the model file is the engine's); `validation` is the split's
    provenance (`ValidationSplit.provenance`), `provenance_extra` joins the provenance too (a
    pretrained run's source file)."""
    records.write_history(spec.run_dir / "history.csv", [history_row(e) for e in epochs])
    record = {
        **spec.identity(),
        "status": "failed" if failure else "ok",
        "reason": failure,
        **training_keys(epochs, best_epoch),
        **extra,
        "device_name": device_name,
        "provenance": {
            **records.provenance(spec, started, device_name),
            **({"validation": validation} if validation is not None else {}),
            **(provenance_extra or {}),
        },
    }
    io.write_json(spec.run_dir / "train.json", record)


def epochs_as_json(epochs: list[Epoch]) -> list[dict[str, Any]]:
    """For a checkpoint's JSON side file."""
    return [asdict(e) for e in epochs]
