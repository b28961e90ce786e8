"""Pick a model: the runs within a budget, best first, and every reason the others are out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradeoffs.analysis.pick import PRESETS, Budget, pick, preset_table
from tradeoffs.records.predictions import SUFFIX, ExamplePredictions, write


def _runs() -> pd.DataFrame:
    rows = [
        # run, backend, acc, p50, p95, footprint, disk, status
        ("big", "torch-cpu", 0.99, 5.0, 9.0, 40.0, 45.0, "ok"),
        ("mid", "torch-cpu", 0.95, 1.0, 2.0, 4.0, 4.5, "ok"),
        ("small", "numba-cpu", 0.90, 0.5, 0.8, 0.2, 0.3, "ok"),
        ("tie", "keras-cpu", 0.95, 0.8, 1.5, 1.0, 1.2, "ok"),
        ("gpu", "torch-cuda", None, None, None, None, None, "skipped"),
    ]
    return pd.DataFrame(
        [
            {
                "study": "s",
                "dataset": "digits",
                "model": name,
                "act": "relu",
                "precision": "fp32",
                "backend": backend,
                "seed": 0,
                "test_acc": acc,
                "latency_ms_p50": p50,
                "latency_ms_p95": p95,
                "est_footprint_mb": footprint,
                "size_disk_mb": disk,
                "status": status,
                "reason": "no CUDA device" if status != "ok" else None,
            }
            for name, backend, acc, p50, p95, footprint, disk, status in rows
        ]
    )


def test_no_budget_ranks_by_accuracy_then_latency() -> None:
    result = pick(_runs(), Budget())
    assert list(result.ranked["model"]) == ["big", "tie", "mid", "small"]
    assert list(result.ranked["rank"]) == [1, 2, 3, 4]
    assert list(result.excluded["model"]) == ["gpu"]
    assert result.excluded["why"].iloc[0] == "skipped: no CUDA device"


def test_every_broken_constraint_is_named() -> None:
    budget = Budget(max_latency_ms=1.0, percentile="p95", max_footprint_mb=2.0, min_accuracy=0.92)
    result = pick(_runs(), budget)
    assert list(result.ranked["model"]) == []
    why = dict(zip(result.excluded["model"], result.excluded["why"], strict=True))
    assert why["big"] == "latency p95 9 ms > 1 ms; footprint 40 MB > 2 MB"
    assert why["mid"] == "latency p95 2 ms > 1 ms; footprint 4 MB > 2 MB"
    assert why["small"] == "accuracy 0.9 < 0.92"
    assert why["tie"] == "latency p95 1.5 ms > 1 ms"
    assert why["gpu"].startswith("skipped: no CUDA device; latency p95 not measured")


def test_percentile_disk_and_backend_constraints() -> None:
    p50 = pick(_runs(), Budget(max_latency_ms=1.0))
    assert list(p50.ranked["model"]) == ["tie", "mid", "small"]
    disk = pick(_runs(), Budget(max_disk_mb=1.0, backends=("numba-cpu", "torch-cpu")))
    assert list(disk.ranked["model"]) == ["small"]
    why = dict(zip(disk.excluded["model"], disk.excluded["why"], strict=True))
    assert why["tie"] == "file size 1.2 MB > 1 MB; backend keras-cpu not selected"


def test_footprint_falls_back_to_the_in_memory_size() -> None:
    runs = _runs().assign(size_mem_mb=3.0)
    runs.loc[runs["model"] == "mid", "est_footprint_mb"] = None
    assert "mid" in set(pick(runs, Budget(max_footprint_mb=3.5)).ranked["model"])


def test_unknown_percentile_is_refused() -> None:
    with pytest.raises(ValueError, match="'p99' is not one of p50, p95"):
        Budget(percentile="p99")


def test_preset_table_names_the_best_run_per_budget() -> None:
    table = preset_table(_runs()).set_index("budget")
    assert list(table.index) == list(PRESETS)
    assert table.loc["best accuracy", "model"] == "big"
    assert table.loc["best accuracy", "runs_fitting"] == 4
    assert table.loc["real time (p95 ≤ 1 ms)", "model"] == "small"
    assert table.loc["small (footprint ≤ 1 MB)", "model"] == "tie"
    assert table.loc["edge (p95 ≤ 1 ms, footprint ≤ 0.25 MB)", "model"] == "small"
    empty = preset_table(_runs(), {"impossible": Budget(min_accuracy=1.0)})
    assert empty.loc[0, "runs_fitting"] == 0 and pd.isna(empty.loc[0].get("model"))
    assert empty.loc[0, "runs_excluded"] == 5


def _with_predictions(runs: pd.DataFrame, folder, wrong: dict[str, int]) -> pd.DataFrame:
    """Give each named run a predictions file of 360 digits with its first N examples wrong."""
    labels = np.arange(360) % 10
    paths = []
    for model in runs["model"]:
        run_dir = folder / model
        predicted = labels.copy()
        n = wrong.get(model, 0)
        predicted[:n] = (predicted[:n] + 1) % 10
        preds = ExamplePredictions(
            labels.astype(np.uint16), predicted.astype(np.uint16), np.full(360, 0.9, np.float16)
        )
        write(run_dir / "eval" / f"digits{SUFFIX}", preds)
        paths.append(str(run_dir))
    return runs.assign(path=paths)


def test_a_tie_on_accuracy_is_named_and_broken_on_latency(tmp_path) -> None:
    runs = _runs()
    runs.loc[runs["model"] == "big", "test_acc"] = 0.96  # 2 examples more than "tie"
    runs = _with_predictions(runs, tmp_path, {"big": 14, "tie": 16, "mid": 18, "small": 36})
    result = pick(runs, Budget())
    assert list(result.ranked["model"][:2]) == ["tie", "big"]  # faster first
    assert result.tie.startswith("tie: s/big/fp32/torch-cpu/0 and s/tie/fp32/keras-cpu/0 are ")
    assert "indistinguishable at this test size (n = 360)" in result.tie
    assert (
        "broken on p50 latency [95% bootstrap interval], then footprint: s/tie/fp32/keras-cpu/0 "
        "(0.8 ms (no interval recorded), 1 MB)" in result.tie
    )
    # With the benchmark's intervals (as runs.csv holds them: text), each latency carries its
    # interval, and overlapping ones are said to leave the choice open.
    timed = runs.assign(latency_ms_p50_ci=None)
    timed.loc[timed["model"] == "tie", "latency_ms_p50_ci"] = "[0.7, 0.9]"
    timed.loc[timed["model"] == "big", "latency_ms_p50_ci"] = "[4.5, 5.5]"
    tie = pick(timed, Budget()).tie
    assert "s/tie/fp32/keras-cpu/0 (0.8 ms [0.7, 0.9], 1 MB) before s/big" in tie
    assert "(5 ms [4.5, 5.5], 40 MB)" in tie and "overlap" not in tie
    timed.loc[timed["model"] == "big", "latency_ms_p50_ci"] = "[0.85, 5.5]"
    noise = "their latency intervals overlap too: that order is within the timing noise"
    assert pick(timed, Budget()).tie.endswith(noise)
    apart = _with_predictions(_runs(), tmp_path / "apart", {"big": 4, "tie": 18})
    assert pick(apart, Budget()).tie is None  # 14 discordant examples: big is better
    assert preset_table(runs)["tie"].notna().any()
