"""history.csv: one row per epoch, made from what every engine measures in an epoch (`Epoch`),
so a column means the same thing in every row of a study; each column is defined with
train.json's keys (`records.train`)."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tradeoffs import io

HISTORY_COLUMNS = (
    "epoch",
    "train_loss",
    "train_acc",
    "test_loss",
    "test_acc",
    "val_loss",
    "val_acc",
    "epoch_time_s",
    "train_throughput_sps",
    "peak_rss_mb",
    "peak_vram_mb",
    "cpu_util_pct",
)


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


def history_row(e: Epoch) -> dict[str, Any]:
    """history.csv's row of an epoch (`HISTORY_COLUMNS`)."""
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


def write_history(path: Path, rows: list[Mapping[str, Any]]) -> None:
    """history.csv: one row per epoch (header only for a run that never trained)."""
    with io.atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HISTORY_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def epochs_as_json(epochs: list[Epoch]) -> list[dict[str, Any]]:
    """For a checkpoint's JSON side file."""
    return [asdict(e) for e in epochs]
