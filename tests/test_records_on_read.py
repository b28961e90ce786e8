"""Records are checked when read back (issue 26): a metrics.json, history.csv or stage record
that breaks its schema (NaN, out of range, a string for a number, an older layout) makes its
run `invalid` with the reason, never a traceback and never a number in the tables, the findings
or picks.md."""

from __future__ import annotations

import json
import math
import runpy
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_analysis_records import write_run
from test_contract import _ok_records

from tradeoffs import io
from tradeoffs.analysis.load import read_metrics
from tradeoffs.identity import RunId as Run
from tradeoffs.jobs.metrics import write_metrics
from tradeoffs.records.history import write_history
from tradeoffs.records.metrics import validate_metrics
from tradeoffs.runspec import RunSpec

ROOT = Path(__file__).resolve().parents[1]


def _edit(path: Path, **changes: Any) -> None:
    record = json.loads(path.read_text())
    for key, value in changes.items():
        if value is _DROP:
            record.pop(key)
        else:
            record[key] = value
    path.write_text(json.dumps(record))  # json writes NaN as the (non-standard) literal


_DROP = object()
BROKEN = {
    "nan accuracy": ({"test_acc": math.nan}, "test_acc is nan, not a finite number"),
    "negative latency": ({"latency_ms_p50": -5.0}, "latency_ms_p50: -5.0 is less than or equal"),
    "string value": ({"params": "many"}, "params: 'many' is not of type 'integer', 'null'"),
    "older layout": (
        {"record_layout": _DROP, "time_to_acc_s": _DROP},
        "'record_layout' is a required property",
    ),
}


def _study(tmp_path: Path, broken: dict[str, Any]) -> list[Path]:
    good = write_run(tmp_path, Run("s", "digits", "cnn", "relu", "fp32", "torch-cpu", 0))
    bad = write_run(tmp_path, Run("s", "digits", "vit", "relu", "fp32", "torch-cpu", 0))
    _edit(good, num_classes=10)
    _edit(bad, **{"num_classes": 10, "test_acc": 0.99, **broken})
    return [good, bad]


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_bad_metrics_record_makes_its_run_invalid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    changes, message = BROKEN[case]
    paths = _study(tmp_path / "results", changes)
    runs = read_metrics(paths).set_index("model")
    assert runs.loc["cnn", "status"] == "ok"
    assert runs.loc["vit", "status"] == "invalid"
    assert message in runs.loc["vit", "reason"] and "snakemake --force" in runs.loc["vit", "reason"]
    assert runs.loc["vit", ["test_acc", "latency_ms_p50", "params"]].isna().all()
    assert runs.loc["vit", "seed"] == 0 and runs.loc["vit", "backend"] == "torch-cpu"

    out = tmp_path / "tables"
    findings = tmp_path / "findings.md"
    argv = ["aggregate", "--metrics", *map(str, paths), "--study-json", "{}"]
    argv += ["--out-dir", str(out), "--study", "s", "--findings", str(findings)]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(ROOT / "scripts/aggregate.py"), run_name="__main__")
    monkeypatch.setattr(
        sys, "argv", ["summary", "--runs", str(out / "runs.csv"), "--out-dir", str(tmp_path)]
    )
    runpy.run_path(str(ROOT / "scripts/summary.py"), run_name="__main__")
    sentences = findings.read_text().splitlines()
    not_run = [s for s in sentences if s.startswith("- Not run:")]
    assert len(not_run) == 1 and "1 invalid (metrics.json: " in not_run[0]
    compared = [s for s in sentences if s not in not_run]
    for text in ("\n".join(compared), (tmp_path / "picks.md").read_text()):
        # the invalid run's numbers (test_acc 0.99, latency -5) and model appear nowhere
        assert "nan" not in text.lower() and " -5" not in text and "0.99" not in text
        assert "vit" not in text
    assert "invalid" in (out / "runs.md").read_text()
    picks = pd.read_csv(tmp_path / "picks.csv")
    assert set(picks["model"].dropna()) <= {"cnn"}


def test_unreadable_json_is_an_invalid_run(tmp_path: Path) -> None:
    path = write_run(tmp_path, Run("s", "digits", "cnn", "relu", "fp32", "torch-cpu", 3))
    path.write_text('{"study": ')
    row = read_metrics([path]).iloc[0]
    assert row["status"] == "invalid" and "not readable JSON" in row["reason"]
    assert (row["study"], row["model"], row["seed"]) == ("s", "cnn", 3)


@pytest.mark.parametrize(
    ("cell", "message"),
    [("nan", "test_acc is nan"), ("1.5", "1.5 is greater than the maximum of 1"), ("x", "'x'")],
)
def test_a_bad_history_row_makes_its_run_invalid(tmp_path: Path, cell: str, message: str) -> None:
    path = write_run(tmp_path, Run("s", "digits", "cnn", "relu", "fp32", "torch-cpu", 0))
    history = path.parent / "history.csv"
    frame = pd.read_csv(history).astype(object)
    frame.loc[1, "test_acc"] = cell
    frame.to_csv(history, index=False)
    row = read_metrics([path]).iloc[0]
    assert row["status"] == "invalid"
    assert "history.csv row 2" in row["reason"] and message in row["reason"]


def _write_stage_records(spec: RunSpec, eval_acc: float) -> dict[str, Path]:
    train, evals, bench = _ok_records(spec)
    evals["digits"]["acc"] = eval_acc
    paths = {"train": spec.run_dir / "train.json", "bench": spec.run_dir / "bench/eager.json"}
    io.write_json(paths["train"], train)
    io.write_json(paths["bench"], bench)
    paths["eval"] = spec.run_dir / "eval" / "digits.json"
    io.write_json(paths["eval"], evals["digits"])
    write_history(
        spec.run_dir / "history.csv",
        [{"epoch": 1, "train_loss": 1.0, "test_acc": 0.9, "epoch_time_s": 1.0}],
    )
    return paths


@pytest.mark.parametrize(("acc", "ok"), [(0.9, True), (math.nan, False), (1.7, False)])
def test_the_metrics_job_checks_the_stage_records(tmp_path: Path, acc: float, ok: bool) -> None:
    run = Run("s", "digits", "mnist_cnn", "relu", "fp32", "torch-cpu", 0)
    spec = RunSpec(**run.keys(), run_dir=tmp_path, data_dir=tmp_path)
    paths = _write_stage_records(spec, acc)
    output = tmp_path / "metrics.json"
    write_metrics(
        spec,
        train=paths["train"],
        bench=paths["bench"],
        evals=[paths["eval"]],
        corrupted=[],
        history=spec.run_dir / "history.csv",
        fraction=0.95,
        output=output,
    )
    metrics = io.read_json(output)
    validate_metrics(metrics)
    if ok:
        assert metrics["status"] == "ok" and metrics["test_acc"] == 0.9
    else:
        assert metrics["status"] == "invalid" and metrics["test_acc"] is None
        assert metrics["reason"].startswith("digits.json: acc")


def test_a_bad_bench_record_is_an_invalid_runtime_row(tmp_path: Path) -> None:
    from tradeoffs.analysis.runtimes import read_bench

    run_dir = Path(Run("s", "digits", "cnn", "relu", "fp32", "torch-cpu", 0).folder(str(tmp_path)))
    good = {"status": "ok", "reason": None, "runtime": "eager", "offline_throughput_sps": 9.0}
    good.update(study="s", dataset="digits", model="cnn", act="relu", precision="fp32")
    good.update(backend="torch-cpu", seed=0, single_stream_latency_ms=1.0, runtime_acc=0.9)
    io.write_json(run_dir / "bench" / "eager.json", good)
    io.write_json(run_dir / "bench" / "int8.json", {**good, "runtime": "int8", "runtime_acc": 2})
    table, _ = read_bench([run_dir / "bench" / "eager.json", run_dir / "bench" / "int8.json"])
    rows = table.set_index("runtime")
    assert rows.loc["eager", "status"] == "ok"
    assert rows.loc["int8", "status"] == "invalid" and rows.loc["int8", "model"] == "cnn"
    assert "runtime_acc: 2 is greater than the maximum of 1" in rows.loc["int8", "reason"]
    assert pd.isna(rows.loc["int8", "runtime_acc"])


# --- property-based: corrupt records never crash the aggregate step ---------------------------

JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
BASE_KEYS = [
    "test_acc",
    "latency_ms_p50",
    "params",
    "status",
    "reason",
    "seed",
    "model",
    "eval",
    "provenance",
    "record_layout",
    "num_classes",
    "est_footprint_mb",
    "energy_proxy",
]


@st.composite
def corruptions(draw) -> dict[str, Any]:
    return {
        "set": draw(
            st.dictionaries(
                st.sampled_from(BASE_KEYS) | st.text(max_size=6), JSON_VALUES, max_size=4
            )
        ),
        "drop": draw(st.lists(st.sampled_from(BASE_KEYS), max_size=3)),
        "raw": draw(st.none() | st.binary(max_size=40) | st.just(b"")),
    }


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A good run and one whose metrics.json each example replaces (its original text kept)."""
    root = tmp_path_factory.mktemp("corrupt")
    good = write_run(root, Run("s", "digits", "cnn", "relu", "fp32", "torch-cpu", 0))
    bad = write_run(root, Run("s", "digits", "vit", "relu", "fp32", "torch-cpu", 1))
    _edit(good, num_classes=10)
    return good, bad, bad.read_text()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corruption=corruptions())
def test_corrupt_records_never_crash_the_tables(
    two_runs: tuple[Path, Path, str], corruption: dict[str, Any]
) -> None:
    from tradeoffs.analysis import aggregate, findings

    good, bad, original = two_runs
    record = json.loads(original)
    for key in corruption["drop"]:
        record.pop(key, None)
    record.update(corruption["set"])
    if corruption["raw"] is not None:
        bad.write_bytes(corruption["raw"])
    else:
        bad.write_text(json.dumps(record))
    runs = read_metrics([good, bad])
    runs["did_not_learn"] = findings.did_not_learn(runs)
    summary = aggregate.summary_table(runs)
    aggregate.to_markdown(aggregate.compact_runs(runs))
    aggregate.to_markdown(aggregate.compact_summary(summary))
    aggregate.to_markdown(aggregate.comparison_table(summary), runs)
    text = findings.findings_markdown("s", findings.findings("s", runs))
    assert set(runs["status"]) <= {"ok", "invalid"}
    assert runs.loc[runs["model"] == "cnn", "status"].tolist() == ["ok"]
    event(f"corrupted run: {runs.loc[runs['seed'] == 1, 'status'].tolist()}")
    assert "nan" not in text.split("- Not run:")[0].lower()


def test_a_bad_serving_record_is_an_invalid_row(tmp_path: Path) -> None:
    from test_serving_tables import write

    from tradeoffs.analysis.serving import read_serving

    good = write(tmp_path, "a", "eager", 200.0)
    bad = write(tmp_path, "b", "eager", math.nan)
    table, levels = read_serving([good, bad])
    assert table["status"].tolist() == ["ok", "invalid"]
    assert table.loc[0, "server_qps"] == 200.0 and pd.isna(table.loc[1, "server_qps"])
    assert "server_qps is nan, not a finite number" in table.loc[1, "reason"]
    assert set(levels["model"]) == {"a"}  # none of the invalid record's levels
