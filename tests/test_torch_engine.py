"""The torch engine end to end on a small prepared `digits`: accuracy, determinism,
kill-and-resume, failure and skip records, predict and benchmark outputs."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from tradeoffs import io
from tradeoffs.config import study_with_defaults
from tradeoffs.engines import load
from tradeoffs.engines.torch import checkpoint as torch_checkpoint
from tradeoffs.engines.torch import fit as torch_fit
from tradeoffs.jobs.benchmark import measurements
from tradeoffs.records.history import HISTORY_COLUMNS
from tradeoffs.runspec import RunSpec

torch_engine = load("torch")

SMALL = {"epochs": 2, "batch_size": 64, "optimizer": "sgd", "lr": 0.05, "limit_train": 256}


def make_spec(run_dir: Path, data_dir: Path, train: dict, **overrides) -> RunSpec:
    fields = {
        "study": "test",
        "dataset": "digits",
        "model": "mnist_cnn",
        "act": "relu",
        "precision": "fp32",
        "backend": "torch-cpu",
        "seed": 0,
        "run_dir": run_dir,
        "data_dir": data_dir,
        "threads": 1,
        "study_config": study_with_defaults(
            {"train": train, "benchmark": {"warmup": 1, "repeats": 3}}
        ),
    }
    return RunSpec(**{**fields, **overrides})


def weights(spec: RunSpec) -> dict[str, torch.Tensor]:
    return torch.load(spec.model_path, weights_only=True)["state_dict"]


def learning_curve(spec: RunSpec) -> pd.DataFrame:
    history = pd.read_csv(spec.run_dir / "history.csv")
    return history[["epoch", "train_loss", "train_acc", "test_loss", "test_acc"]]


def assert_same_run(a: RunSpec, b: RunSpec) -> None:
    pd.testing.assert_frame_equal(learning_curve(a), learning_curve(b), check_exact=True)
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


@pytest.mark.slow
def test_mnist_cnn_reaches_90_percent_on_digits(tmp_path, digits_data_dir):
    train = {"epochs": 6, "batch_size": 64, "optimizer": "sgd", "lr": 0.02, "momentum": 0.9}
    spec = make_spec(tmp_path, digits_data_dir, train)
    torch_engine.train(spec)
    record = io.read_json(tmp_path / "train.json")
    assert record["status"] == "ok" and record["epochs_run"] == 6
    predictions = torch_engine.predict(spec, "digits")
    assert (predictions.probs.argmax(axis=1) == predictions.labels).mean() >= 0.90
    assert not (tmp_path / torch_checkpoint.FILENAME).exists()


def test_one_seed_gives_identical_runs(tmp_path, digits_data_dir):
    a, b = (make_spec(tmp_path / name, digits_data_dir, SMALL) for name in "ab")
    torch_engine.train(a)
    torch_engine.train(b)
    assert_same_run(a, b)


class KilledError(Exception):
    """Stands in for the job being killed after an epoch."""


@pytest.mark.slow
def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path, digits_data_dir):
    train = {
        **SMALL,
        "epochs": 3,
        "optimizer": "adamw",
        "lr": 0.003,
        "schedule": "onecycle",
        "augment": True,
        "label_smoothing": 0.1,
        "best_checkpoint": True,
    }
    whole = make_spec(tmp_path / "whole", digits_data_dir, train)
    torch_engine.train(whole)

    resumed = make_spec(tmp_path / "resumed", digits_data_dir, train)

    def kill_after_first(epoch: int) -> None:
        if epoch == 1:
            raise KilledError

    with pytest.raises(KilledError):
        torch_fit.train(resumed, on_epoch_end=kill_after_first)
    assert (resumed.run_dir / torch_checkpoint.FILENAME).exists()
    assert not resumed.model_path.exists()
    torch_engine.train(resumed)
    assert_same_run(whole, resumed)
    assert io.read_json(resumed.run_dir / "train.json")["epochs_run"] == 3


def test_checkpoint_of_other_settings_is_ignored(tmp_path, digits_data_dir):
    spec = make_spec(tmp_path, digits_data_dir, {**SMALL, "epochs": 1})
    torch_checkpoint.save(tmp_path / torch_checkpoint.FILENAME, {"config_hash": "other"})
    torch_engine.train(spec)
    assert io.read_json(tmp_path / "train.json")["epochs_run"] == 1


def test_non_finite_loss_is_a_failed_run_with_every_output(tmp_path, digits_data_dir, monkeypatch):
    def diverging(softmax: str, smoothing: float = 0.0):
        return lambda logits, y: logits.sum() * float("nan")

    monkeypatch.setattr(torch_fit, "make_loss", diverging)
    spec = make_spec(tmp_path, digits_data_dir, {**SMALL, "epochs": 3})
    torch_engine.train(spec)
    record = io.read_json(tmp_path / "train.json")
    assert record["status"] == "failed"
    assert "non-finite training loss" in record["reason"] and "epoch 1" in record["reason"]
    assert record["epochs_run"] == 1
    assert spec.model_path.exists() and (tmp_path / "history.csv").exists()


def test_early_stopping_best_checkpoint_and_tensorboard(tmp_path, digits_data_dir):
    train = {**SMALL, "epochs": 4, "lr": 2.0, "early_stopping": 1, "best_checkpoint": True}
    spec = make_spec(tmp_path, digits_data_dir, {**train, "tensorboard": True})
    torch_engine.train(spec)
    record = io.read_json(tmp_path / "train.json")
    history = pd.read_csv(tmp_path / "history.csv")
    assert list(history.columns) == list(HISTORY_COLUMNS)
    assert record["status"] == "ok"  # a rate this high stalls the validation loss
    assert record["early_stopped"] and record["epochs_run"] < 4
    assert record["best_epoch"] == int(history.loc[history.val_acc.idxmax(), "epoch"])
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))


def test_predict_and_benchmark_records(tmp_path, digits_data_dir):
    spec = make_spec(tmp_path, digits_data_dir, {**SMALL, "epochs": 1})
    torch_engine.train(spec)
    record = io.read_json(tmp_path / "train.json")
    for key in (
        "train_time_s",
        "epoch_time_s",
        "train_throughput_sps",
        "epochs_run",
        "best_epoch",
        "peak_rss_mb",
        "peak_vram_mb",
        "cpu_util_pct",
        "device_name",
        "provenance",
    ):
        assert key in record
    predictions = torch_engine.predict(spec, "digits")
    assert predictions.probs.shape == (360, 10)
    assert predictions.probs.sum(axis=1) == pytest.approx(1.0, abs=1e-5)
    assert predictions.loss > 0
    # The model's facts are train.json's, counted by the train job.
    assert record["params"] == 53_866
    # conv1 26*26*8*9 + conv2 11*11*16*72 + fc 400*128 + 128*10 multiply-accumulates
    assert record["macs"] == 26 * 26 * 8 * 9 + 11 * 11 * 16 * 72 + 400 * 128 + 128 * 10
    assert record["flops"] == 2 * record["macs"]
    assert record["size_mem_mb"] == pytest.approx(53_866 * 4 / 2**20)
    assert record["size_disk_mb"] == pytest.approx(spec.model_path.stat().st_size / 2**20)
    bench = measurements(spec, "eager")  # the engine's device facts and the sweep
    assert not {"params", "flops", "size_disk_mb"} & set(bench)  # one record per fact
    assert bench["bench_batch_size"] == 64
    for key in ("latency_ms_p50", "latency_ms_p95", "latency_ms_p99", "infer_throughput_sps"):
        assert bench[key] > 0
    assert bench["bench_peak_rss_mb"] > 0 and bench["bench_peak_vram_mb"] is None
    assert "peak_rss_mb" not in bench  # metrics.json's peak_rss_mb is the training peak


@pytest.mark.parametrize("model", ["cnn", "gcn"])
def test_cifar_shaped_models_train_on_digits(tmp_path, digits_data_dir, model):
    train = {**SMALL, "epochs": 1, "limit_train": 64, "augment": True, "schedule": "cosine"}
    spec = make_spec(tmp_path, digits_data_dir, train, model=model)
    torch_engine.train(spec)
    assert io.read_json(tmp_path / "train.json")["status"] == "ok"
    assert torch_engine.predict(spec, "digits").probs.shape == (360, 10)


def test_image_size_sets_the_shape_a_model_trains_and_runs_at(tmp_path, digits_data_dir):
    train = {**SMALL, "epochs": 1, "limit_train": 64, "image_size": 16}
    spec = make_spec(tmp_path, digits_data_dir, train, model="cnn")
    torch_engine.train(spec)
    saved = torch.load(spec.model_path, weights_only=True)
    assert saved["meta"]["in_shape"] == [16, 16, 3]  # the model's own size is 32x32x3
    assert torch_engine.predict(spec, "digits").probs.shape == (360, 10)
    native_train = {**train, "image_size": None}
    native = make_spec(tmp_path / "native", digits_data_dir, native_train, model="cnn")
    torch_engine.train(native)
    # The convolutions see a quarter of the pixels: a quarter of the FLOPs.
    flops = [io.read_json(s.run_dir / "train.json")["flops"] for s in (spec, native)]
    assert flops[0] == pytest.approx(flops[1] / 4, rel=0.05)


def test_unavailable_backend_is_recorded_as_skipped(tmp_path, digits_data_dir, monkeypatch):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here: torch-cuda would train")
    run_dir = tmp_path / "run"
    argv = [
        "train.py",
        *("--study", "backends", "--dataset", "digits", "--model", "mnist_cnn"),
        *("--act", "relu", "--precision", "fp32", "--backend", "torch-cuda", "--seed", "0"),
        *("--run-dir", str(run_dir), "--data-dir", str(digits_data_dir)),
    ]
    monkeypatch.setattr(sys, "argv", argv)
    script = Path(__file__).resolve().parents[1] / "scripts" / "train.py"
    runpy.run_path(str(script), run_name="__main__")
    record = io.read_json(run_dir / "train.json")
    assert record["status"] == "skipped" and "CUDA" in record["reason"]
    assert (run_dir / "model.pt").read_text() == ""
    assert (run_dir / "history.csv").read_text().strip() == ",".join(HISTORY_COLUMNS)
