"""Tables from hand-made records: every run listed, configurations averaged over seeds."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from test_analysis_records import write_run

from tradeoffs.analysis import aggregate
from tradeoffs.analysis.load import read_metrics
from tradeoffs.identity import RunId as Run


@pytest.fixture
def runs(tmp_path: Path) -> pd.DataFrame:
    def run(model: str, backend: str, seed: int) -> Run:
        return Run("s", "digits", model, "relu", "fp32", backend, seed)

    paths = [
        write_run(tmp_path, run("cnn", "torch-cpu", 0), test_acc=0.8, latency_ms_p50=2.0),
        write_run(tmp_path, run("cnn", "torch-cpu", 1), test_acc=0.9, latency_ms_p50=4.0),
        write_run(tmp_path, run("cnn", "torch-cpu", 2), "failed"),
        write_run(tmp_path, run("cnn", "torch-cuda", 0), "skipped"),
        write_run(tmp_path, run("vit", "torch-cpu", 0), test_acc=0.7),
    ]
    return read_metrics(paths)


def test_runs_table_keeps_skipped_and_failed_runs(runs: pd.DataFrame) -> None:
    assert list(runs["status"]) == ["ok", "ok", "failed", "skipped", "ok"]
    assert runs.loc[2, "reason"] == "failed: test reason"
    assert pd.isna(runs.loc[3, "test_acc"])


def test_summary_means_and_stds_over_ok_seeds(runs: pd.DataFrame) -> None:
    summary = aggregate.summary_table(runs).set_index(["model", "backend"])
    cnn = summary.loc[("cnn", "torch-cpu")]
    assert (cnn["n_runs"], cnn["n_ok"], cnn["n_failed"], cnn["n_skipped"]) == (3, 2, 1, 0)
    assert cnn["test_acc_mean"] == pytest.approx(0.85)
    assert cnn["test_acc_std"] == pytest.approx(math.sqrt(0.005))  # sample std of 0.8, 0.9
    assert cnn["latency_ms_p50_mean"] == pytest.approx(3.0)
    assert cnn["latency_ms_p50_std"] == pytest.approx(math.sqrt(2.0))
    assert cnn["reasons"] == "failed: test reason"
    skipped = summary.loc[("cnn", "torch-cuda")]
    assert (skipped["n_runs"], skipped["n_ok"], skipped["n_skipped"]) == (1, 0, 1)
    assert pd.isna(skipped["test_acc_mean"])
    vit = summary.loc[("vit", "torch-cpu")]
    assert vit["test_acc_mean"] == pytest.approx(0.7)
    assert pd.isna(vit["test_acc_std"])
    assert "seed_mean" not in summary


def test_markdown_tables(runs: pd.DataFrame) -> None:
    summary = aggregate.summary_table(runs)
    compact = aggregate.compact_summary(summary)
    assert compact.loc[0, "test_acc"] == "0.85 ± 0.071"
    assert compact.loc[1, "test_acc"] == ""
    text = aggregate.to_markdown(aggregate.compact_runs(runs))
    assert text.count("\n") == len(runs) + 2
    assert "skipped" in text and "failed: test reason" in text
    assert aggregate.to_markdown(runs.iloc[0:0]) == "_No runs._\n"


def test_comparison_table_best_first(runs: pd.DataFrame) -> None:
    table = aggregate.comparison_table(aggregate.summary_table(runs))
    assert list(table["Model"]) == ["cnn", "vit"]  # only what differs between them
    assert list(table["Test accuracy (%)"]) == pytest.approx([85.0, 70.0])
    # Records without corrupted sets or time-to-accuracy leave those columns out.
    assert list(table.columns) == [
        "Model",
        "Test accuracy (%)",
        "Parameters",
        "Model size (MB)",
        "Inference time (ms, p50)",
        "Throughput (samples/s)",
    ]
