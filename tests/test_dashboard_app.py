"""The Streamlit app's logic through Streamlit's AppTest: upload, predict, table, CSV, every tab,
and a message (never a traceback) for each user mistake."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from tradeoffs.dashboard import session

APP = Path(__file__).resolve().parents[1] / "src" / "tradeoffs" / "dashboard" / "app.py"
TABS = ["Overview", "Comparison", "Analysis", "Insights", "Benchmarks", "Pick a model"]


def _png(color: str = "white", size: tuple[int, int] = (30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def _app(monkeypatch: pytest.MonkeyPatch, config: Path, results: Path | None = None) -> AppTest:
    monkeypatch.setenv("TRADEOFFS_CONFIG", str(config))
    if results is not None:
        monkeypatch.setenv("TRADEOFFS_RESULTS", str(results))
    else:
        monkeypatch.delenv("TRADEOFFS_RESULTS", raising=False)
    return AppTest.from_file(str(APP), default_timeout=120).run()


def _texts(elements) -> list[str]:
    """The elements' text as it reads on the page (names from data are backslash-escaped)."""
    return [re.sub(r"\\(.)", r"\1", str(e.value)) for e in elements]


def test_upload_predict_table_csv_and_tabs(
    dashboard_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(monkeypatch, dashboard_config)
    assert not at.exception and not at.error
    models = at.sidebar.multiselect(key="models")
    assert len(models.options) == 2  # the skipped torch-cuda run is not offered
    models.set_value(models.options).run()
    traversal = io.BytesIO()
    with zipfile.ZipFile(traversal, "w") as archive:
        archive.writestr("../../x.png", _png())
    at.file_uploader(key="uploads").set_value(
        [
            ("seven.png", _png("black"), "image/png"),
            ("notes.txt", b"just text", "text/plain"),
            ("evil.zip", traversal.getvalue(), "application/zip"),
        ]
    ).run()
    at.button[0].click().run()
    assert not at.exception
    warnings = _texts(at.warning)
    assert any("notes.txt: not a PNG or JPEG image" in w for w in warnings)
    assert any("evil.zip: refused, member names leave" in w for w in warnings)
    assert _texts(at.success) == ["2 predictions (1 images × 2 runs)."]
    assert "seven.png: colour, reduced to its luminance for greyscale runs." in _texts(at.info)
    table = at.dataframe[0].value
    assert list(table.columns) == list(session.COLUMNS)
    assert sorted(table["backend"]) == ["keras-cpu", "torch-cpu"]
    assert set(table["image"]) == {"seven.png"}
    assert table["class"].isin([str(d) for d in range(10)]).all()
    assert (table["confidence"].between(0, 1)).all() and (table["ms"] > 0).all()
    assert all(len(top.split(", ")) == 5 for top in table["top5"])
    assert at.get("download_button")[0].proto.label == "Download CSV"
    back = pd.read_csv(io.BytesIO(session.to_csv(table)), dtype={"class": str})
    pd.testing.assert_frame_equal(back, table, check_dtype=False)
    assert [tab.label for tab in at.tabs] == TABS
    overview = {m.label: m.value for m in at.tabs[0].metric}
    assert overview["Finished runs"] == "2" and overview["Skipped or failed"] == "1"
    assert overview["Images predicted"] == "1"
    assert overview["Runs agree on"] in ("0% of images", "100% of images")
    # A second image accumulates in the same table.
    at.file_uploader(key="uploads").set_value(("grey.png", _png("grey"), "image/png")).run()
    at.button[0].click().run()
    assert len(at.dataframe[0].value) == 4


def test_pick_a_model_explains_exclusions(
    dashboard_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(monkeypatch, dashboard_config)
    pick_tab = at.tabs[5]
    assert "**2 runs fit** (no constraint), best first:" in _texts(pick_tab.markdown)
    pick_tab.number_input(key="max_ms").set_value(1e-6).run()
    pick_tab = at.tabs[5]
    assert "**0 runs fit** (latency p50 ≤ 1e-06 ms), best first:" in _texts(pick_tab.markdown)
    why = pick_tab.dataframe[1].value.set_index("run")["why"]
    assert len(why) == 3
    assert why.str.contains("latency p50").all()
    assert why[why.index.str.contains("torch-cuda")].iloc[0].startswith("skipped: no CUDA device")


def test_every_tab_renders_its_content(
    dashboard_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(monkeypatch, dashboard_config)
    assert not at.exception
    comparison, insights, benchmarks = at.tabs[1], at.tabs[3], at.tabs[4]
    assert len(comparison.dataframe[0].value) == 2
    assert "energy_proxy" in insights.dataframe[0].value.columns
    assert benchmarks.info and "No study tables" in benchmarks.info[0].value
    charts = [c for c in at.tabs[2].children.values() if c.type == "vega_lite_chart"]
    assert len(charts) == 2  # accuracy against latency and against size
    for chart in charts:  # hovering a point names its run
        tooltip = json.loads(chart.proto.spec)["encoding"]["tooltip"]
        assert {"field": "run", "type": "nominal"} in tooltip


def test_empty_results_directory_is_a_message(
    dashboard_config: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = _app(monkeypatch, dashboard_config, tmp_path)
    assert not at.exception
    assert _texts(at.error) == [
        f"no finished runs in {tmp_path} (no readable */runs/**/metrics.json): run the pipeline "
        "first (`make run`) or choose another results directory."
    ]


def test_missing_config_is_a_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = _app(monkeypatch, tmp_path / "nope.yaml")
    assert not at.exception
    assert _texts(at.error)[0].startswith(f"Cannot read config {tmp_path / 'nope.yaml'}")


def test_corrupt_model_and_record_are_messages(
    dashboard_config: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    shutil.copytree(dashboard_config.parent / "results", results)
    (model,) = results.glob("backends/runs/**/torch-cpu/seed0/model.pt")
    model.write_bytes(b"garbage")
    (metrics,) = results.glob("binary/runs/**/metrics.json")
    broken = metrics.parent.parent / "seed1" / "metrics.json"
    broken.parent.mkdir()
    broken.write_text("{ not json")
    at = _app(monkeypatch, dashboard_config, results)
    assert any("unreadable" in w and "seed1" in w for w in _texts(at.warning))
    models = at.sidebar.multiselect(key="models")
    models.set_value(models.options).run()
    at.file_uploader(key="uploads").set_value(("a.png", _png(), "image/png")).run()
    at.button[0].click().run()
    assert not at.exception
    assert any(
        "could not be loaded" in w and "rerun its train job" in w for w in _texts(at.warning)
    )
    assert len(at.dataframe[0].value) == 1  # the Keras run still predicted


def test_pick_a_model_answers_for_the_chosen_device(
    dashboard_config: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tradeoffs.analysis.catalog import build_catalog, write_catalog
    from tradeoffs.analysis.load import read_metrics

    results = tmp_path / "results"
    shutil.copytree(dashboard_config.parent / "results", results)
    run = "backends/runs/digits/mnist_cnn/relu/fp32/torch-cpu/seed0"
    imported = results / "hosts" / "gpubox" / run
    shutil.copytree(results / run, imported)
    record = json.loads((imported / "metrics.json").read_text())
    record.update(host="gpubox", latency_ms_p50=record["latency_ms_p50"] / 10)
    (imported / "metrics.json").write_text(json.dumps(record))
    metrics = sorted(results.rglob("metrics.json"))
    write_catalog(
        build_catalog(read_metrics(metrics), pd.DataFrame()),
        results / "summary" / "catalog.parquet",
    )
    at = _app(monkeypatch, dashboard_config, results)
    pick_tab = at.tabs[5]
    assert pick_tab.selectbox(key="device").options == sorted(
        [record["provenance"]["host"], "gpubox"]
    )
    pick_tab.selectbox(key="device").set_value("gpubox").run()
    pick_tab = at.tabs[5]
    assert "**1 runs fit** (no constraint), best first:" in _texts(pick_tab.markdown)
    assert pick_tab.dataframe[0].value["run"].tolist() == [
        "backends/digits/mnist_cnn/relu/fp32/torch-cpu/seed0@gpubox"
    ]
    assert "gpubox has no measurement for 1 candidates" in pick_tab.warning[0].value
    assert pick_tab.dataframe[2].value["model"].tolist() == ["cnn"]  # the Keras run, elsewhere only
    assert pick_tab.dataframe[3].value["model"].tolist() == ["mnist_cnn"]  # the catalog's row
    assert "meets_target" in pick_tab.dataframe[3].value.columns


def test_pick_a_model_filters_on_the_accuracy_target(
    dashboard_config: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tradeoffs.analysis.load import read_metrics

    results = tmp_path / "results"
    shutil.copytree(dashboard_config.parent / "results", results)
    for study in ("backends", "binary"):  # each study's runs.csv, as aggregate writes it
        runs = read_metrics(sorted(results.glob(f"{study}/runs/**/metrics.json")))
        ok = runs["status"] == "ok"
        verdict = study == "backends"  # the backends run meets its target, the binary one not
        runs = runs.assign(
            acc_ratio_lo=[0.995 if verdict else 0.9 if o else None for o in ok],
            meets_target=[verdict if o else None for o in ok],
        )
        (results / study / "tables").mkdir(parents=True, exist_ok=True)
        runs.to_csv(results / study / "tables" / "runs.csv", index=False)
    at = _app(monkeypatch, dashboard_config, results)
    pick_tab = at.tabs[5]
    assert "**2 runs fit** (no constraint), best first:" in _texts(pick_tab.markdown)
    assert "meets_target" in pick_tab.dataframe[0].value.columns
    pick_tab.checkbox(key="meets_target").check().run()
    pick_tab = at.tabs[5]
    assert not at.exception
    assert "**1 runs fit** (meets the accuracy target), best first:" in _texts(pick_tab.markdown)
    assert pick_tab.dataframe[0].value["run"].str.startswith("backends/").tolist() == [True]
    why = pick_tab.dataframe[1].value.set_index("run")["why"]
    assert why[why.index.str.contains("binary")].iloc[0] == (
        "below the accuracy target (ratio bound 0.9)"
    )
