"""train.json's training keys and the train outputs every engine writes (history.csv and
train.json; the model file is the engine's), so a key means the same thing in every run.

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
from typing import Any

from tradeoffs import io
from tradeoffs.records.history import Epoch, history_row, write_history
from tradeoffs.records.nulls import NO_DEVICE_MEMORY, measured
from tradeoffs.records.provenance import provenance
from tradeoffs.runspec import RunSpec


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
        **measured("peak_vram_mb", max(vram) if vram else None, NO_DEVICE_MEMORY),
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
        keys.update(measured(key, None, reason))
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
    write_history(spec.run_dir / "history.csv", [history_row(e) for e in epochs])
    record = {
        **spec.identity(),
        "status": "failed" if failure else "ok",
        "reason": failure,
        **training_keys(epochs, best_epoch),
        **extra,
        "device_name": device_name,
        "provenance": {
            **provenance(spec, started, device_name),
            **({"validation": validation} if validation is not None else {}),
            **(provenance_extra or {}),
        },
    }
    io.write_json(spec.run_dir / "train.json", record)
