"""Torch runtimes on a small trained model: export, agreement with eager, the sweep's records,
skip records for models a runtime cannot take, and the bench/{runtime}.json script."""

from __future__ import annotations

import json
import runpy
import sys

import numpy as np
import pytest
import torch
from runtime_settings import BENCH
from torch import nn

from tradeoffs import engines, io, precision, runtimes
from tradeoffs.config import study_with_defaults
from tradeoffs.data.integrity import sha256_of
from tradeoffs.measure.sweep import SweepSettings
from tradeoffs.records.predictions import SUFFIX, read
from tradeoffs.runspec import RunSpec
from tradeoffs.runtimes import bench, torch_runtimes
from tradeoffs.runtimes.base import Loaded

torch_engine = engines.load("torch")

pytestmark = pytest.mark.slow

TRAIN = {"epochs": 1, "batch_size": 64, "optimizer": "sgd", "lr": 0.05, "limit_train": 256}


@pytest.fixture(scope="module")
def spec(tmp_path_factory, digits_data_dir) -> RunSpec:
    """A trained mnist_cnn run on digits (1 epoch)."""
    run = RunSpec(
        study="runtimes",
        dataset="digits",
        model="mnist_cnn",
        act="relu",
        precision="fp32",
        backend="torch-cpu",
        seed=0,
        run_dir=tmp_path_factory.mktemp("run"),
        data_dir=digits_data_dir,
        threads=1,
        study_config=study_with_defaults({"train": TRAIN, "benchmark": BENCH}),
    )
    torch_engine.train(run)
    return run


def settings():
    return SweepSettings.from_cfg(BENCH, 4)  # batch_sizes [4]: throughput at 4 too


@pytest.mark.parametrize("name", ["eager", "onnxruntime", "int8"])
def test_runtime_is_checked_then_swept(spec, name):
    record = bench.measure(name, torch_engine.loaded(spec), settings())
    assert record["status"] == "ok", record["reason"]
    assert record["runtime"] == name and record["check_n"] == 360
    assert record["runtime_kind"] == ("int8" if name == "int8" else "float")
    if name != "int8":
        assert record["agreement_top1"] >= runtimes.AGREEMENT_MIN
    assert 0.0 <= record["runtime_acc"] <= 1.0
    assert [p["batch_size"] for p in record["sweep"]] == [1, 4]
    for point in record["sweep"]:
        assert point["repeats"] >= 5 and point["throughput_sps"] > 0
        low, high = point["latency_ms_p99_ci"]
        assert low <= point["latency_ms_p99"] <= high
    assert record["single_stream_latency_ms"] == record["sweep"][0]["latency_ms_p90"]
    assert record["offline_batch_size"] in (1, 4)
    if name == "onnxruntime":
        assert record["runtime_detail"] == "CPUExecutionProvider"
        assert record["runtime_size_mb"] > 0.1 and record["setup_s"] > 0
    if name == "int8":
        assert record["runtime_detail"] == "static (FX, x86)"
        # int8 weights: about a quarter of the fp32 state dict (53,866 parameters)
        assert record["runtime_size_mb"] < 53_866 * 4 / 2**20 / 2


class DataDependent(nn.Module):
    """Branches on a value: torch.export cannot trace it, FX cannot either."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)

    def forward(self, x):
        y = self.conv(x).mean(dim=(2, 3))
        return y if y.sum() > 0 else -y


def loaded_for(model: nn.Module, n: int = 16) -> Loaded:
    images = torch.randn(n, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    device = torch.device("cpu")
    return Loaded(
        model.eval(),
        images,
        np.zeros(n, dtype=np.int64),
        lambda name: torch_runtimes.build(name, model, images, lambda: images, device),
        lambda x, index: x[torch.from_numpy(index)],
    )


def test_a_model_the_exporter_cannot_take_is_a_skip_record():
    record = bench.measure("onnxruntime", loaded_for(DataDependent()), settings())
    assert record["status"] == "skipped"
    assert record["reason"].startswith("torch.onnx.export: ")
    assert "sweep" not in record


def test_int8_skips_a_model_without_fx_trace_or_linear_layer():
    record = bench.measure("int8", loaded_for(DataDependent()), settings())
    assert record["status"] == "skipped"
    assert "static: " in record["reason"] and "no Linear layer" in record["reason"]


def test_int8_skips_a_model_quantised_in_training():
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 4))
    quantised = precision.quantize_model(model, "e4m3", {"first_last": "quantized"})
    record = bench.measure("int8", loaded_for(quantised), settings())
    assert record["status"] == "skipped" and "fp32 model" in record["reason"]


def test_a_float_runtime_that_disagrees_with_eager_fails_the_check():
    reference = np.arange(200) % 10
    predicted = reference.copy()
    predicted[:3] = (predicted[:3] + 1) % 10  # 98.5% agreement
    failed = bench.check("onnxruntime", predicted, reference, reference)
    assert failed["status"] == "failed" and "0.9850 is below 0.99" in failed["reason"]
    assert failed["runtime_acc"] == pytest.approx(0.985)
    assert bench.check("int8", predicted, reference, reference)["status"] == "ok"


def test_compile_time_is_setup_not_timing():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(144, 3))
    record = bench.measure("compile", loaded_for(model, n=4), settings())
    assert record["status"] == "ok" and record["agreement_top1"] == 1.0
    # two input shapes (the check's batch of 4 and batch 1) compiled before any timed call
    assert record["setup_s"] > 20 * record["sweep"][0]["latency_ms_p99"] / 1e3
    assert record["runtime_detail"] == "inductor"


def test_benchmark_script_writes_one_record_per_runtime(spec, monkeypatch):
    out = spec.run_dir / "bench" / "onnxruntime.json"
    argv = [
        "benchmark.py",
        *("--study", spec.study, "--dataset", "digits", "--model", spec.model),
        *("--act", "relu", "--precision", "fp32", "--backend", "torch-cpu", "--seed", "0"),
        *("--run-dir", str(spec.run_dir), "--data-dir", str(spec.data_dir)),
        *("--study-json", json.dumps(study_with_defaults({"train": TRAIN, "benchmark": BENCH}))),
        *("--runtime", "onnxruntime", "--output", str(out)),
    ]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path("scripts/benchmark.py", run_name="__main__")
    record = io.read_json(out)
    assert record["model"] == "mnist_cnn" and record["runtime"] == "onnxruntime"
    assert record["status"] == "ok"
    # batch 1, benchmark.batch_sizes and the throughput batch (null: the training batch)
    assert [p["batch_size"] for p in record["sweep"]] == [1, 4, TRAIN["batch_size"]]
    # The check's per-example predictions, beside the record and checksummed in it.
    kept = out.with_name(f"onnxruntime{SUFFIX}")
    assert record["runtime_predictions"] == kept.name
    assert record["runtime_predictions_sha256"] == sha256_of(kept)
    examples = read(kept)
    assert len(examples) == record["check_n"] == 360
    assert examples.correct.mean() == pytest.approx(record["runtime_acc"])
    assert np.all((examples.confidence > 0) & (examples.confidence <= 1))
    eager = out.with_name("eager.json")
    monkeypatch.setattr(sys, "argv", [*argv[:-4], "--runtime", "eager", "--output", str(eager)])
    runpy.run_path("scripts/benchmark.py", run_name="__main__")
    record = io.read_json(eager)
    assert record["bench_device_name"] and "flops" not in record  # device facts, not model
    for key in ("latency_ms_p50", "latency_ms_p99", "latency_ms_mean", "latency_ms_std"):
        assert record[key] == record["sweep"][0][key]  # one measurement, not the engine's
    throughput = record["sweep"][-1]
    assert record["infer_throughput_sps"] == throughput["throughput_sps"]
    assert record["batch_latency_ms_p50"] == throughput["latency_ms_p50"]


def test_serving_script_serves_the_runtime_the_benchmark_measured(spec, monkeypatch):
    """The same built runtime served under Poisson load for real (short levels)."""
    serving = {"p99_ms": 50, "duration_s": 0.05, "resolution": 0.25}
    serving["batching"] = {"max_batch": 4, "max_wait_ms": 0.5}
    study = json.dumps(
        study_with_defaults({"train": TRAIN, "benchmark": BENCH, "serving": serving})
    )
    argv = [
        "serving.py",
        *("--study", spec.study, "--dataset", "digits", "--model", spec.model),
        *("--act", "relu", "--precision", "fp32", "--backend", "torch-cpu", "--seed", "0"),
        *("--run-dir", str(spec.run_dir), "--data-dir", str(spec.data_dir)),
        *("--study-json", study, "--runtime", "onnxruntime"),
    ]
    bench_record = spec.run_dir / "bench" / "onnxruntime.json"
    out = spec.run_dir / "serving" / "onnxruntime.json"
    io.write_json(bench_record, {"status": "skipped", "reason": "exporter said no"})
    monkeypatch.setattr(sys, "argv", [*argv, "--output", str(out)])
    runpy.run_path("scripts/serving.py", run_name="__main__")
    assert io.read_json(out)["status"] == "skipped"  # bench's status and reason, no serving
    assert io.read_json(out)["reason"] == "exporter said no"
    io.write_json(bench_record, {"status": "ok"})
    runpy.run_path("scripts/serving.py", run_name="__main__")
    record = io.read_json(out)
    assert record["status"] == "ok" and record["runtime"] == "onnxruntime"
    assert record["server_qps"] is not None or record["server_qps_reason"]
    assert record["capacity_qps"] > 0 and record["max_batch"] == 4
    assert 4 in [level["clients"] for level in record["multistream"]]
    for level in record["points"] + record["multistream"]:
        assert level["requests"] >= record["min_requests"] == 299
        assert max(int(size) for size in level["batch_sizes"]) <= 4
    assert record["overhead_p99_ms"] >= 0 and record["threads"] == 1 and record["cpu_cores"] >= 1
