"""Pareto frontiers on a known set."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradeoffs.analysis.frontier import frontier_points, frontier_table, pareto_mask
from tradeoffs.records.predictions import SUFFIX, ExamplePredictions, write


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


def _runs_with_predictions(folder) -> pd.DataFrame:
    """Five runs on the same 1,000 examples, each wrong on its first `wrong` ones: fast, slow
    and best on the frontier; tie (2.5 ms, 899 right) dominated but 3 discordant examples from
    slow (2 ms, 902 right); worse (4 ms, 700 right) dominated and distinguishable from all."""

    labels = np.arange(1000) % 10
    rows = []
    for name, latency, wrong in (
        ("fast", 1.0, 100),
        ("slow", 2.0, 98),
        ("tie", 2.5, 101),
        ("best", 3.0, 0),
        ("worse", 4.0, 300),
    ):
        predicted = labels.copy()
        predicted[:wrong] = (predicted[:wrong] + 1) % 10
        path = folder / name
        write(
            path / "eval" / f"d1{SUFFIX}",
            ExamplePredictions(
                labels.astype(np.uint16),
                predicted.astype(np.uint16),
                np.full(1000, 0.9, np.float16),
            ),
        )
        rows.append(
            {
                "study": "s",
                "dataset": "d1",
                "model": name,
                "act": "relu",
                "precision": "fp32",
                "backend": "torch-cpu",
                "seed": 0,
                "status": "ok",
                "test_acc": 1 - wrong / 1000,
                "latency_ms_p50": latency,
                "path": str(path),
            }
        )
    return pd.DataFrame(rows)


def test_runs_tied_with_a_frontier_point_of_no_greater_cost_are_named(tmp_path) -> None:
    points = frontier_points(_runs_with_predictions(tmp_path), "latency_ms_p50", ties=True)
    by_model = points.set_index("model")
    assert list(points.loc[points["on_frontier"], "model"]) == ["fast", "slow", "best"]
    # tie: 899 right against slow's 902 (3 discordant pairs), the nearest cheaper frontier point.
    assert by_model.loc["tie", "tied_with"] == "s/d1/slow/relu/fp32/torch-cpu/0"
    assert pd.isna(by_model.loc["worse", "tied_with"])  # 700 right: distinguishable from all
    assert by_model.loc[["fast", "slow", "best"], "tied_with"].isna().all()
    table = frontier_table(points, "latency_ms_p50")
    assert list(table["model"]) == ["fast", "slow", "tie", "best"]
    assert list(table.columns)[-1] == "tied_with"
    assert "tied_with" not in frontier_points(_runs_with_predictions(tmp_path), "latency_ms_p50")


def test_the_frontier_figure_crosses_the_tied_runs(tmp_path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from tradeoffs.analysis.figures.frontier import frontier

    fig = frontier(_runs_with_predictions(tmp_path), "latency")
    crossed = [c for c in fig.axes[0].collections if c.get_label() == "tied with frontier"]
    assert len(crossed) == 1 and crossed[0].get_offsets().tolist() == [[2.5, 0.899]]
