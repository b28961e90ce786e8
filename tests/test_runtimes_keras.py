"""Keras runtimes on small trained networks: TFLite agrees with eager, the Larq Compute Engine
runs the binarised network and records its accuracy, and skips a network without larq layers."""

from __future__ import annotations

import pytest
from keras_helpers import make_spec
from prepared_digits import write_prepared_digits
from runtime_settings import BENCH

from tradeoffs import engines, runtimes
from tradeoffs.jobs.benchmark import measurements
from tradeoffs.measure.sweep import SweepSettings
from tradeoffs.runtimes import bench

keras_engine = engines.load("keras")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_prepared_digits(tmp_path_factory.mktemp("data"), 10, 4)


@pytest.fixture(scope="module")
def trained(data_dir, tmp_path_factory):
    """A trained bnn (larq) and cnn (float) run, one epoch each."""
    specs = {}
    for model in ("bnn", "cnn"):
        spec = make_spec(data_dir, tmp_path_factory.mktemp(model), model, benchmark=BENCH)
        keras_engine.train(spec)
        specs[model] = spec
    return specs


def settings():
    return SweepSettings.from_cfg(BENCH, 4)  # batch_sizes [4]: throughput at 4 too


def test_tflite_agrees_with_eager_and_is_swept(trained):
    record = bench.measure("tflite", keras_engine.loaded(trained["bnn"]), settings())
    assert record["status"] == "ok", record["reason"]
    assert record["agreement_top1"] >= runtimes.AGREEMENT_MIN and record["check_n"] == 40
    assert [p["batch_size"] for p in record["sweep"]] == [1, 4]
    assert record["runtime_size_mb"] > 0 and record["setup_s"] > 0


def test_lce_runs_the_binarised_network_and_records_its_accuracy(trained):
    loaded = keras_engine.loaded(trained["bnn"])
    record = bench.measure("lce", loaded, settings())
    assert record["status"] == "ok", record["reason"]
    assert record["runtime_kind"] == "binary"
    assert 0.0 <= record["runtime_acc"] <= 1.0 and 0.0 <= record["agreement_top1"] <= 1.0
    assert record["runtime_detail"].startswith("larq_compute_engine 0.16.0")
    fp32_mb = loaded.model.count_params() * 4 / 2**20
    assert record["runtime_size_mb"] < fp32_mb  # binary weights packed 32 to a word


def test_lce_skips_a_network_without_larq_layers(trained):
    record = bench.measure("lce", keras_engine.loaded(trained["cnn"]), settings())
    assert record["status"] == "skipped" and "no larq layers" in record["reason"]


def test_eager_record_carries_the_engine_keys(trained):
    record = measurements(trained["cnn"], "eager")
    assert record["runtime"] == "eager" and record["agreement_top1"] == 1.0
    assert record["bench_device_name"] and record["latency_ms_p90"] > 0
