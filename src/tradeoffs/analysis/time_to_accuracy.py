"""Time-to-accuracy (as MLPerf Training and DAWNBench score training): the training seconds a run
needed to first reach a stated fraction of its final test accuracy, read from history.csv."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def time_to_accuracy(
    history: Sequence[Mapping[str, Any]], final_acc: float | None, fraction: float
) -> float | None:
    """Sum of `epoch_time_s` (training passes only) up to and including the first epoch whose
    `test_acc` is at least `fraction * final_acc`; None for a run without a final accuracy or
    a per-epoch test accuracy, or one that never reached it. `history` is history.csv's rows
    (`records.validate.read_history`; an empty cell is None)."""
    if final_acc is None:
        return None
    seconds = 0.0
    for row in history:
        seconds += row["epoch_time_s"]
        acc = row["test_acc"]
        if acc is not None and acc >= fraction * final_acc:
            return seconds
    return None
