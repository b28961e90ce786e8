"""Atomic writes, the measurement method, evaluation metrics and the record contract."""

import mmap
import time
from pathlib import Path

import numpy as np
import pytest

from tradeoffs import io
from tradeoffs.config import study_with_defaults
from tradeoffs.evaluation import Predictions, classification_metrics, expected_calibration_error
from tradeoffs.measure.memory import ResourceMonitor
from tradeoffs.measure.timing import summarize, time_calls
from tradeoffs.records import predictions
from tradeoffs.records.eval import not_run_summary, not_run_tables, write_eval
from tradeoffs.records.metrics import merge_metrics, validate_metrics
from tradeoffs.records.not_run import upstream_status, write_not_run
from tradeoffs.records.provenance import now, provenance
from tradeoffs.runspec import RunSpec


def test_atomic_write_leaves_nothing_when_the_writer_fails(tmp_path):
    target = tmp_path / "out" / "file.json"
    with pytest.raises(RuntimeError), io.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_atomic_write_replaces_the_target(tmp_path):
    target = tmp_path / "a.json"
    io.write_json(target, {"x": np.float32(1.5), "y": np.arange(2)})
    assert io.read_json(target) == {"x": 1.5, "y": [0, 1]}


def test_summarize_percentiles():
    timing = summarize(list(range(1, 101)), warmup=3)
    assert timing.p50_ms == pytest.approx(50.5)
    assert timing.p95_ms == pytest.approx(95.05)
    assert timing.min_ms == 1 and timing.repeats == 100 and timing.warmup == 3


def test_time_calls_warms_up_and_syncs_every_call():
    calls, syncs = [], []
    timing = time_calls(lambda: calls.append(1), warmup=4, repeats=6, sync=lambda: syncs.append(1))
    assert len(calls) == 10
    assert len(syncs) == 7  # once after warm-up, once per timed call
    assert timing.repeats == 6


def test_time_calls_measures_the_work():
    timing = time_calls(lambda: time.sleep(0.01), warmup=1, repeats=5)
    assert 9 < timing.p50_ms < 100


def test_resource_monitor_sees_an_allocation():
    before = ResourceMonitor()._rss_mb()
    with ResourceMonitor() as monitor:
        # 64 MiB of fresh pages, written: resident whatever the heap holds free from earlier
        block = mmap.mmap(-1, 64 * 2**20)
        block.write(b"\1" * len(block))
        time.sleep(0.1)
        block.close()
    assert monitor.peak_rss_mb > before + 32
    assert monitor.wall_s > 0.09


def test_classification_metrics_on_a_known_case():
    probs = np.array(
        [[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.5, 0.4, 0.1], [0.2, 0.2, 0.6]], dtype=np.float64
    )
    labels = np.array([0, 1, 1, 2])
    summary, confusion, report = classification_metrics(
        Predictions(probs, labels, 0.5), ["a", "b", "c"]
    )
    assert summary["acc"] == 0.75
    assert summary["n"] == 4 and summary["loss"] == 0.5
    assert summary["mean_confidence"] == pytest.approx((0.7 + 0.6 + 0.5 + 0.6) / 4)
    assert confusion.tolist() == [[1, 0, 0], [1, 1, 0], [0, 0, 1]]  # rows true, columns predicted
    by_class = {row["class"]: row for row in report}
    assert by_class["a"]["precision"] == 0.5 and by_class["c"]["recall"] == 1.0
    assert list(report[0]) == ["class", "precision", "recall", "f1", "support"]


def test_the_eval_tables_are_written_as_csv(tmp_path):
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.5, 0.4, 0.1]])
    labels = np.array([0, 1, 1])
    summary, confusion, report = classification_metrics(
        Predictions(probs, labels, 0.5), ["a", "b,c", "d"]
    )
    write_eval(tmp_path, "x", summary, confusion, report, predictions.from_probs(probs, labels))
    table = (tmp_path / "eval" / "x_confusion.csv").read_text().splitlines()
    assert table == ['true,a,"b,c",d', "a,1,0,0", '"b,c",1,1,0', "d,0,0,0"]
    rows = (tmp_path / "eval" / "x_report.csv").read_text().splitlines()
    assert (
        rows[0] == "class,precision,recall,f1,support"
        and rows[1] == "a,0.5,1.0,0.6666666666666666,1.0"
    )
    empty, none = not_run_tables(["a", "b"])
    write_eval(
        tmp_path,
        "y",
        not_run_summary("skipped", "no GPU", ["a", "b"]),
        empty,
        none,
        predictions.empty(),
    )
    assert (tmp_path / "eval" / "y_confusion.csv").read_text() == "true,a,b\n"
    assert (tmp_path / "eval" / "y_report.csv").read_text() == "class,precision,recall,f1,support\n"


def test_ece_is_zero_when_confidence_matches_accuracy():
    probs = np.tile([0.75, 0.25], (4, 1))
    labels = np.array([0, 0, 0, 1])
    assert expected_calibration_error(probs, labels) == pytest.approx(0.0)
    assert expected_calibration_error(probs, np.array([1, 1, 1, 1])) == pytest.approx(0.75)


def spec(tmp_path: Path, backend: str = "torch-cpu") -> RunSpec:
    return RunSpec(
        study="s",
        dataset="digits",
        model="mnist_cnn",
        act="relu",
        precision="fp32",
        backend=backend,
        seed=0,
        run_dir=tmp_path / "run",
        data_dir=tmp_path / "data",
        study_config=study_with_defaults({"train": {"epochs": 1}}),
    )


def test_a_skipped_run_leaves_every_train_output(tmp_path):
    run = spec(tmp_path, "torch-cuda")
    write_not_run(run, "skipped", "no CUDA", now())
    assert run.model_path.exists() and run.model_path.stat().st_size == 0
    assert (run.run_dir / "history.csv").read_text().startswith("epoch,")
    assert upstream_status(run) == ("skipped", "no CUDA")


def test_skipped_run_merges_into_valid_metrics(tmp_path):
    run = spec(tmp_path, "torch-cuda")
    write_not_run(run, "skipped", "no CUDA", now())
    train = io.read_json(run.run_dir / "train.json")
    skipped = {"status": "skipped", "reason": "no CUDA"}
    metrics = merge_metrics(run, train, {"digits": skipped}, skipped)
    validate_metrics(metrics)
    assert metrics["status"] == "skipped" and metrics["reason"] == "no CUDA"
    assert metrics["test_acc"] is None and metrics["latency_ms_p50"] is None
    assert metrics["provenance"]["config_hash"] == run.config_hash


def test_ok_run_merges_test_and_out_of_distribution_results(tmp_path):
    run = spec(tmp_path)
    train = {"status": "ok", "train_time_s": 3.0, "provenance": provenance(run, "t0")}
    evals = {
        "digits": {"status": "ok", "acc": 0.9, "top5": 1.0, "loss": 0.3, "ece": 0.05, "n": 10},
        "other": {"status": "ok", "acc": 0.6, "top5": 0.9, "loss": 1.1, "ece": 0.2, "n": 10},
    }
    bench = {"status": "ok", "params": 10, "latency_ms_p50": 1.0, "infer_throughput_sps": 5.0}
    metrics = merge_metrics(run, train, evals, bench)  # partial: no schema check here
    assert metrics["test_acc"] == 0.9 and metrics["ood_acc"] == 0.6
    assert metrics["ood_dataset"] == "other"
    assert metrics["generalization_gap"] == pytest.approx(0.3)
    assert metrics["train_time_s"] == 3.0 and metrics["params"] == 10
    assert set(metrics["eval"]) == {"digits", "other"}


def test_a_failed_stage_fails_the_run(tmp_path):
    run = spec(tmp_path)
    train = {"status": "ok", "provenance": provenance(run, "t0")}
    bench = {"status": "failed", "reason": "out of memory"}
    metrics = merge_metrics(run, train, {"digits": {"status": "ok", "acc": 0.5}}, bench)
    assert metrics["status"] == "failed" and metrics["reason"] == "out of memory"


def test_provenance_names_versions_host_and_commit(tmp_path):
    prov = provenance(spec(tmp_path), "t0")
    assert prov["versions"]["python"]
    assert "numpy" in prov["versions"]
    assert prov["host"] and prov["cpu"] and prov["started"] == "t0"
