"""The runtime axis outside the engines: config checks, which runs get which runtimes, the
tables, the per-runtime frontier and the throughput figure, from hand-written records."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tradeoffs import io, runtimes
from tradeoffs.analysis.figures.runtimes import runtime_frontier_figure, throughput_batch
from tradeoffs.analysis.runtimes import RUN_KEYS, read_bench, runtime_frontier
from tradeoffs.config import ConfigError, check_config, load_schema

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schemas" / "config.schema.yaml"
IDENTITY = {"study": "s", "dataset": "digits", "act": "relu", "precision": "fp32", "seed": 0}


def study(**changes) -> dict:
    spec = {"datasets": ["digits"], "models": ["mnist_cnn"], "backends": ["torch-cpu"]}
    return {"studies": {"s": {**spec, **changes}}}


def test_schema_lists_every_runtime_and_defaults_to_eager():
    schema = load_schema(SCHEMA)["$defs"]["study"]["properties"]["runtimes"]
    assert schema["items"]["enum"] == runtimes.all_names()
    assert check_config(study(), SCHEMA)["studies"]["s"]["runtimes"] == ["eager"]


def test_a_runtime_no_backend_of_the_study_offers_is_refused():
    with pytest.raises(ConfigError) as error:
        check_config(study(runtimes=["eager", "tflite"]), SCHEMA)
    assert str(error.value) == (
        "studies.s.runtimes[1]: 'tflite' runs no model of this study's backends; "
        "choose from: eager, compile, onnxruntime, int8"
    )
    mixed = study(backends=["torch-cpu", "keras-cpu"], models=["cnn"], runtimes=["tflite"])
    assert check_config(mixed, SCHEMA)["studies"]["s"]["runtimes"] == ["tflite"]


def test_each_run_gets_eager_and_the_runtimes_its_framework_offers():
    requested = ["onnxruntime", "tflite", "lce"]
    assert runtimes.runtimes_for("torch", requested) == ["eager", "onnxruntime"]
    assert runtimes.runtimes_for("keras", requested) == ["eager", "tflite", "lce"]
    assert runtimes.runtimes_for("numba", requested) == ["eager"]


def point(batch: int, ms: float) -> dict:
    return {
        "batch_size": batch,
        "latency_ms_p50": ms,
        "latency_ms_p50_ci": [ms * 0.9, ms * 1.1],
        "throughput_sps": batch * 1e3 / ms,
    }


def write_record(folder: Path, model: str, runtime: str, status: str = "ok", **keys) -> Path:
    record = {**IDENTITY, "model": model, "backend": "torch-cpu", "runtime": runtime}
    record.update(status=status, reason=None if status == "ok" else "exporter said no", **keys)
    path = folder / model / f"{runtime}.json"
    io.write_json(path, record)
    return path


def ok_keys(acc: float, single_ms: float, sps: float) -> dict:
    return {
        "runtime_acc": acc,
        "single_stream_latency_ms": single_ms,
        "single_stream_latency_ms_ci": [single_ms * 0.9, single_ms * 1.2],
        "offline_throughput_sps": sps,
        "sweep": [point(1, single_ms), point(32, 32e3 / sps)],
    }


@pytest.fixture
def records(tmp_path) -> list[Path]:
    return [
        write_record(tmp_path, "a", "eager", **ok_keys(0.90, 2.0, 1000.0)),
        write_record(tmp_path, "a", "onnxruntime", **ok_keys(0.90, 1.0, 3000.0)),
        write_record(tmp_path, "a", "int8", **ok_keys(0.80, 0.5, 2000.0)),
        write_record(tmp_path, "a", "compile", status="skipped"),
        write_record(tmp_path, "b", "eager", **ok_keys(0.95, 4.0, 500.0)),
    ]


def test_tables_carry_the_runtime_and_the_ratio_to_eager(records):
    table, sweep = read_bench(records)
    assert list(table.columns[: len(RUN_KEYS)]) == list(RUN_KEYS)
    ratio = table.set_index(["model", "runtime"])["throughput_vs_eager"]
    assert ratio[("a", "onnxruntime")] == pytest.approx(3.0)
    assert ratio[("a", "int8")] == pytest.approx(2.0)
    assert ratio[("a", "eager")] == 1.0 and pd.isna(ratio[("a", "compile")])
    # intervals become _low/_high columns; the sweep becomes one row per batch size
    assert table.loc[0, "single_stream_latency_ms_ci_high"] == pytest.approx(2.4)
    assert "sweep" not in table
    assert len(sweep) == 8 and set(sweep["batch_size"]) == {1, 32}
    assert sweep.loc[0, "latency_ms_p50_ci_low"] == pytest.approx(1.8)


def test_frontier_over_all_runtimes_and_per_runtime(records):
    frontier = runtime_frontier(read_bench(records)[0])
    members = {
        scope: set(zip(g["model"], g["runtime"], strict=True))
        for scope, g in frontier.groupby("scope")
    }
    # over all: int8 is fastest, onnxruntime beats eager a, b alone reaches 0.95
    assert members["all"] == {("a", "int8"), ("a", "onnxruntime"), ("b", "eager")}
    assert members["eager"] == {("a", "eager"), ("b", "eager")}
    assert members["onnxruntime"] == {("a", "onnxruntime")}
    assert "compile" not in members  # skipped records never reach a frontier


def test_throughput_figure_draws_one_line_per_runtime(records):
    figure = throughput_batch(read_bench(records)[1])
    lines = {ax.get_title(): len(ax.get_lines()) for ax in figure.axes}
    assert lines == {"a": 3, "b": 1}
    empty = throughput_batch(pd.DataFrame(columns=["runtime"]))
    assert "No runtime" in empty.axes[0].texts[0].get_text()


def test_frontier_figure_has_a_panel_per_dataset_and_a_colour_per_runtime(records):
    figure = runtime_frontier_figure(read_bench(records)[0])
    (ax,) = figure.axes
    assert ax.get_title() == "digits"
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == [
        "eager",
        "int8",
        "onnxruntime",
    ]
    step = ax.get_lines()[0]
    assert list(step.get_xdata()) == [0.5, 1.0, 4.0]  # int8, onnxruntime, eager of b
