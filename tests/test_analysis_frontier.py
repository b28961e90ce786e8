"""Pareto frontiers on a known set."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradeoffs.analysis.frontier import frontier_points, frontier_table, pareto_mask


def test_pareto_mask_known_set() -> None:
    cost = [1.0, 2.0, 3.0, 2.0, 1.0, 5.0]
    acc = [0.5, 0.7, 0.6, 0.7, 0.4, 0.9]
    # (3, .6) is beaten by (2, .7); (1, .4) by (1, .5); equal points both stay.
    assert pareto_mask(np.array(cost), np.array(acc)).tolist() == [
        True,
        True,
        False,
        True,
        False,
        True,
    ]


def _runs() -> pd.DataFrame:
    rows = [
        ("a", "d1", "ok", 0.90, 10.0, 4.0),
        ("b", "d1", "ok", 0.80, 1.0, None),
        ("c", "d1", "ok", 0.70, 5.0, 1.0),
        ("d", "d1", "failed", None, None, None),
        ("e", "d2", "ok", 0.50, 100.0, 1.0),
        ("f", "d1", "ok", 0.95, None, 2.0),
    ]
    table = pd.DataFrame(
        rows, columns=["model", "dataset", "status", "test_acc", "latency_ms_p50", "size_mem_mb"]
    )
    return table.assign(
        study="s",
        act="relu",
        precision="fp32",
        backend="torch-cpu",
        seed=0,
        est_footprint_mb=[None, 0.5, None, None, None, None],
    )


def test_frontier_per_dataset_over_ok_runs() -> None:
    points = frontier_points(_runs(), "latency_ms_p50")
    assert list(points["model"]) == ["b", "c", "a", "e"]  # d failed, f has no latency
    assert list(points["on_frontier"]) == [True, False, True, True]
    table = frontier_table(points, "latency_ms_p50")
    assert list(table["model"]) == ["b", "a", "e"]
    assert list(table.columns)[-2:] == ["test_acc", "latency_ms_p50"]


def test_frontier_by_size_prefers_the_footprint_at_precision() -> None:
    points = frontier_points(_runs(), "model_size_mb")
    sizes = dict(zip(points["model"], points["model_size_mb"], strict=True))
    assert sizes == {"b": 0.5, "c": 1.0, "f": 2.0, "a": 4.0, "e": 1.0}
    assert list(points.loc[points["on_frontier"], "model"]) == ["b", "f", "e"]
