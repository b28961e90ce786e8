"""Time-to-accuracy (as MLPerf Training and DAWNBench score training): the training seconds a run
needed to first reach a stated fraction of its final test accuracy, read from history.csv."""

from __future__ import annotations

import numpy as np
import pandas as pd


def time_to_accuracy(
    history: pd.DataFrame, final_acc: float | None, fraction: float
) -> float | None:
    """Sum of `epoch_time_s` (training passes only) up to and including the first epoch whose
    `test_acc` is at least `fraction * final_acc`; None for a run without a final accuracy or
    a per-epoch test accuracy, or one that never reached it."""
    if final_acc is None or history.empty or history["test_acc"].isna().all():
        return None
    reached = np.flatnonzero(history["test_acc"].to_numpy() >= fraction * final_acc)
    if reached.size == 0:
        return None
    return float(history["epoch_time_s"].iloc[: reached[0] + 1].sum())
