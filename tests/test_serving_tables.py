"""Serving outside the generator: the study's tables and figure from hand-written records,
server_qps joined onto the runs, its frontier, the Pick-a-model constraint and the finding."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tradeoffs import io
from tradeoffs.analysis.figures.serving import serving_latency
from tradeoffs.analysis.findings import findings
from tradeoffs.analysis.frontier import frontier_points
from tradeoffs.analysis.pick import Budget, pick
from tradeoffs.analysis.serving import key_table, read_serving, with_server_qps
from tradeoffs.config import check_config

IDENTITY = {"study": "s", "dataset": "digits", "act": "relu", "precision": "fp32", "seed": 0}


def level(rate: float, p99: float, dropped: int = 0) -> dict:
    return {
        "offered_qps": rate,
        "requests": 400,
        "dropped": dropped,
        "latency_ms_p50": p99 / 3,
        "latency_ms_p99": p99,
        "latency_ms_p99_ci": [p99 * 0.9, p99 * 1.1],
        "batch_sizes": {"1": 400},
        "meets": p99 <= 10 and not dropped,
    }


def write(folder: Path, model: str, runtime: str, qps: float | None, status="ok") -> Path:
    record = {**IDENTITY, "model": model, "backend": "torch-cpu", "runtime": runtime}
    record.update(status=status, reason=None if status == "ok" else "exporter said no")
    if status == "ok":
        record.update(
            server_qps=qps,
            p99_bound_ms=10.0,
            server_latency_ms_p99=9.0,
            server_latency_ms_p99_ci=[8.0, 9.5],
            points=[level(100, 2.0), level(200, 9.0), level(400, 30.0, dropped=5)],
            multistream=[{"clients": 1, "throughput_qps": 300.0, "latency_ms_p99": 3.0}],
        )
    path = folder / model / f"{runtime}.json"
    io.write_json(path, record)
    return path


@pytest.fixture
def records(tmp_path) -> list[Path]:
    return [
        write(tmp_path, "a", "eager", 200.0),
        write(tmp_path, "a", "onnxruntime", 900.0),
        write(tmp_path, "b", "eager", None),
        write(tmp_path, "c", "eager", None, status="skipped"),
    ]


def runs() -> pd.DataFrame:
    rows = [("a", 0.90), ("b", 0.95), ("c", 0.99), ("d", 0.80)]
    return pd.DataFrame(
        [
            {**IDENTITY, "model": m, "backend": "torch-cpu", "test_acc": acc, "status": "ok"}
            | {"latency_ms_p50": 1.0, "est_footprint_mb": 1.0, "size_disk_mb": 1.0}
            for m, acc in rows
        ]
    )


def test_tables_have_a_row_per_record_and_per_level(records):
    serving, levels = read_serving(records)
    assert len(serving) == 4 and "points" not in serving
    assert serving.loc[0, "server_latency_ms_p99_ci_high"] == 9.5
    assert set(levels["mode"]) == {"poisson", "clients"}
    assert len(levels[levels["mode"] == "poisson"]) == 9 and "batch_sizes" not in levels
    assert "server_qps" in key_table(serving) and "capacity_qps" not in key_table(serving)


def test_runs_get_their_eager_server_qps(records):
    joined = with_server_qps(runs(), read_serving(records)[0]).set_index("model")
    assert joined.loc["a", "server_qps"] == 200.0  # eager's, not onnxruntime's
    assert pd.isna(joined.loc["b", "server_qps"]) and pd.isna(joined.loc["d", "server_qps"])
    assert joined.loc["a", "p99_bound_ms"] == 10.0
    untouched = with_server_qps(runs(), pd.DataFrame())
    assert untouched["server_qps"].isna().all() and len(untouched) == 4


def test_frontier_prefers_more_requests_per_second(records):
    joined = with_server_qps(runs(), read_serving(records)[0])
    joined.loc[joined["model"] == "b", "server_qps"] = 100.0
    joined.loc[joined["model"] == "d", "server_qps"] = 150.0  # slower and less accurate than a
    points = frontier_points(joined, "server_qps").set_index("model")
    assert points["on_frontier"].to_dict() == {"b": True, "d": False, "a": True}
    assert frontier_points(runs(), "server_qps").empty  # no study served


def test_pick_constraint_on_sustained_requests(records):
    joined = with_server_qps(runs(), read_serving(records)[0])
    result = pick(joined, Budget(min_server_qps=150.0, server_p99_ms=10.0))
    assert list(result.ranked["model"]) == ["a"]
    why = dict(zip(result.excluded["model"], result.excluded["why"], strict=True))
    assert why["b"] == "server_qps not measured"  # served, but no rate met its bound
    assert why["d"] == "server_qps not measured; serving p99 bound not measured"
    strict = pick(joined, Budget(min_server_qps=150.0, server_p99_ms=5.0))
    assert strict.excluded.set_index("model").loc["a", "why"] == "serving p99 bound 10 ms > 5 ms"
    assert Budget(min_server_qps=150.0, server_p99_ms=5.0).describe() == (
        "serves ≥ 150 req/s at p99 ≤ 5 ms"
    )


def test_finding_names_the_fastest_served_record(records):
    serving = read_serving(records)[0]
    sentences = findings("s", runs().assign(num_classes=10), serving)
    served = [s for s in sentences if s.startswith("Under Poisson load")]
    assert served == [
        "Under Poisson load, a (fp32, torch-cpu, onnxruntime) sustains the most requests: "
        "900 req/s with p99 9 ms [95% bootstrap interval 8, 9.5] ≤ 10 ms (2 of 4 served "
        "records met the bound)."
    ]
    assert not any("Poisson" in s for s in findings("s", runs().assign(num_classes=10)))


def test_figure_has_a_panel_per_run_and_marks_the_bound_and_drops(records):
    serving, levels = read_serving(records)
    figure = serving_latency(levels, serving)
    titles = sorted(ax.get_title() for ax in figure.axes)
    assert titles == ["a", "b"]
    (ax,) = [a for a in figure.axes if a.get_title() == "a"]
    assert [t.get_text() for t in ax.texts] == ["p99 bound 10 ms"]
    labels = ax.get_legend_handles_labels()[1]
    assert "eager p99" in labels and "dropped requests" in labels
    assert ax.get_xscale() == "log"
    empty = serving_latency(pd.DataFrame(columns=["runtime"]), pd.DataFrame())
    assert "No run was served" in empty.axes[0].texts[0].get_text()


def test_serving_is_off_unless_a_study_sets_it_and_then_gets_the_defaults():
    spec = {"datasets": ["digits"], "models": ["mnist_cnn"], "backends": ["torch-cpu"]}
    checked = check_config({"studies": {"s": spec, "t": {**spec, "serving": {"p99_ms": 5}}}})
    assert "serving" not in checked["studies"]["s"]
    assert checked["studies"]["t"]["serving"] == {
        "p99_ms": 5,
        "duration_s": 10,
        "batching": {"max_batch": 1, "max_wait_ms": 0},
        "queue_size": 256,
        "confidence": 0.95,
        "resolution": 0.05,
    }


def test_dashboard_catalog_joins_each_study_serving_table(tmp_path, records):
    from test_analysis_records import write_run

    from tradeoffs.dashboard.catalog import load_catalog
    from tradeoffs.identity import RunId as Run

    results = tmp_path / "results"
    for model in ("a", "b"):  # complete records: the catalog reads only valid ones as runs
        run = Run("s", "digits", model, "relu", "fp32", "torch-cpu", 0)
        write_run(results, run, num_classes=10)  # its provenance names host "test"
    (results / "s" / "tables").mkdir(exist_ok=True)
    served = read_serving(records)[0].assign(host="test")  # served on the same machine
    served.to_csv(results / "s" / "tables" / "serving.csv", index=False)
    runs = load_catalog(results).runs.set_index("model")
    assert runs.loc["a", "server_qps"] == 200.0 and pd.isna(runs.loc["b", "server_qps"])


@pytest.mark.parametrize(
    "rates",
    [
        (9e3, 1.1e4, 2.6e4, 5.2e4),
        (2.6e4, 4e4, 4.7e4, 5.5e4),
        (8.7e3, 1.3e4, 1.55e4, 1.75e4),
        (340, 510, 600, 690),
        (10, 1e3, 1e5, 1e7),
        (1e-3, 1, 1e4, 1e9),
    ],
)
def test_log_axes_label_several_ticks_that_do_not_collide(rates):
    """Less than a decade of data still gets several labelled ticks; many decades get one a
    decade; no two labels of an axis overlap, and minor ticks have none."""
    levels = pd.DataFrame(
        [
            {"mode": "poisson", "runtime": "eager", "seed": 0, "dropped": 0, **IDENTITY}
            | {"model": "a", "backend": "torch-cpu", "offered_qps": rate, "latency_ms_p50": p}
            | {"latency_ms_p99": 2 * p}
            for rate, p in zip(rates, (1.3, 1.5, 4.0, 9.0), strict=True)
        ]
    )
    serving = pd.DataFrame(
        [{"runtime": "eager", "model": "a", "backend": "torch-cpu", "server_qps": rates[2]}]
        + [{"p99_bound_ms": 20.0, **IDENTITY}]
    ).assign(**IDENTITY, model="a", backend="torch-cpu")
    figure = serving_latency(levels, serving)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    (ax,) = figure.axes
    for axis, (low, high) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        shown = [
            t
            for t, v in zip(axis.get_ticklabels(), axis.get_ticklocs(), strict=True)
            if t.get_text() and low <= v <= high
        ]
        assert len(shown) >= 3, [t.get_text() for t in shown]
        boxes = [t.get_window_extent(renderer) for t in shown]
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
        assert not any(t.get_text() for t in axis.get_minorticklabels())
