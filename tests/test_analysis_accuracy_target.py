"""The accuracy_target study option on hand-made runs tables and predictions files: the ratio
columns of the runs table, the findings sentence and the "Pick a model" constraint; deployment
runtimes against their eager model from the runtime checks' predictions files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tradeoffs import io
from tradeoffs.analysis import findings
from tradeoffs.analysis.accuracy_target import (
    runtime_target_sentence,
    with_accuracy_target,
    with_runtime_target,
)
from tradeoffs.analysis.catalog import build_catalog
from tradeoffs.analysis.pick import Budget, pick
from tradeoffs.analysis.runtimes import read_bench
from tradeoffs.records.predictions import SUFFIX, ExamplePredictions, write

N = 1000
LABELS = np.arange(N) % 10


def _runs(folder: Path, rows: list[tuple[str, str, int, int]]) -> pd.DataFrame:
    """(model, precision, seed, wrong examples): the first `wrong` examples are misclassified."""
    table = []
    for i, (model, precision, seed, wrong) in enumerate(rows):
        predicted = LABELS.copy()
        predicted[:wrong] = (predicted[:wrong] + 1) % 10
        run_dir = folder / f"run{i}"
        write(
            run_dir / "eval" / f"digits{SUFFIX}",
            ExamplePredictions(
                LABELS.astype(np.uint16), predicted.astype(np.uint16), np.full(N, 0.9, np.float16)
            ),
        )
        table.append(
            {
                "study": "precision",
                "dataset": "digits",
                "model": model,
                "act": "relu",
                "precision": precision,
                "backend": "torch-cpu",
                "seed": seed,
                "status": "ok",
                "reason": None,
                "num_classes": 10,
                "test_acc": 1 - wrong / N,
                "path": str(run_dir),
                "eval.digits.n": N,
            }
        )
    return pd.DataFrame(table)


def test_each_format_is_tested_against_its_own_models_fp32_run_of_the_same_seed(tmp_path):
    runs = _runs(
        tmp_path,
        [
            ("mlp", "fp32", 0, 100),
            ("mlp", "fp8", 0, 100),  # the same predictions: ratio 1
            ("mlp", "fp4", 0, 145),  # 5% of fp32's 900 correct lost
            ("mlp", "fp32", 1, 500),  # seed 1's reference is much worse...
            ("mlp", "fp4", 1, 145),  # ... so seed 1's fp4 is well above it
            ("cnn", "fp4", 0, 0),  # no cnn fp32 run: untested
        ],
    )
    table = with_accuracy_target(runs, "precision", 0.99)
    assert list(table["meets_target"][:5]) == [True, True, False, True, True]
    assert pd.isna(table.loc[5, "meets_target"])
    assert np.isnan(table.loc[0, "acc_ratio"])  # the reference itself
    assert table.loc[1, "acc_ratio"] == 1.0 and table.loc[1, "acc_ratio_lo"] == 1.0
    assert table.loc[2, "acc_ratio"] == 855 / 900 and table.loc[2, "acc_ratio_lo"] < 0.95
    assert table.loc[4, "acc_ratio"] == 855 / 500
    assert np.isnan(table.loc[5, "acc_ratio"])
    assert with_accuracy_target(runs, "precision", None) is runs  # off: unchanged


def test_the_binary_studys_reference_is_the_full_precision_cnn(tmp_path):
    runs = _runs(tmp_path, [("cnn", "fp32", 0, 10), ("bnn", "fp32", 0, 60)]).assign(study="binary")
    table = with_accuracy_target(runs, "binary", 0.9)
    assert list(table["meets_target"]) == [True, True]
    assert table.loc[1, "acc_ratio"] == 940 / 990
    assert not with_accuracy_target(runs, "binary", 0.99).loc[1, "meets_target"]


def test_findings_say_which_runs_meet_the_target(tmp_path):
    runs = _runs(
        tmp_path, [("mlp", "fp32", 0, 100), ("mlp", "fp8", 0, 100), ("mlp", "fp4", 0, 145)]
    )
    table = with_accuracy_target(runs, "precision", 0.99)
    text = findings.findings("precision", table, config={"accuracy_target": 0.99})
    sentence = next(s for s in text if s.startswith("Accuracy target 0.99"))
    assert "met by fp8 1.000 (≥ 1.000); not met by fp4 0.950 (≥ 0.9" in sentence
    text = findings.findings("precision", runs, config={"accuracy_target": None})
    assert not any(s.startswith("Accuracy target") for s in text)


def test_pick_keeps_only_runs_that_meet_the_target(tmp_path):
    runs = _runs(
        tmp_path, [("mlp", "fp32", 0, 100), ("mlp", "fp8", 0, 100), ("mlp", "fp4", 0, 145)]
    )
    runs = with_accuracy_target(runs, "precision", 0.99).assign(latency_ms_p50=1.0)
    result = pick(runs, Budget(meets_target=True))
    assert sorted(result.ranked["precision"]) == ["fp32", "fp8"]
    assert result.excluded["why"].tolist()[0].startswith("below the accuracy target (ratio bound")
    read_back = runs.assign(meets_target=runs["meets_target"].astype(bool))  # a numpy bool column
    assert len(pick(read_back, Budget(meets_target=True)).ranked) == 2
    untested = pick(runs.drop(columns=["meets_target"]), Budget(meets_target=True))
    assert set(untested.excluded["why"]) == {"accuracy target not tested"}
    assert Budget(meets_target=True).describe() == "meets the accuracy target"


def _bench_records(folder: Path, runtimes: dict[str, int], **identity: object) -> list[Path]:
    """bench/{runtime}.json of one run and its check's predictions files ({runtime: wrong});
    `identity` overrides the run's keys."""
    paths = []
    for runtime, wrong in runtimes.items():
        predicted = LABELS.copy()
        predicted[:wrong] = (predicted[:wrong] + 1) % 10
        kept = folder / "bench" / f"{runtime}{SUFFIX}"
        sha = write(
            kept,
            ExamplePredictions(
                LABELS.astype(np.uint16), predicted.astype(np.uint16), np.full(N, 0.9, np.float16)
            ),
        )
        record = {
            "study": "runtimes",
            "dataset": "digits",
            "model": "mlp",
            "act": "relu",
            "precision": "fp32",
            "backend": "torch-cpu",
            "seed": 0,
            "host": "lab",
            "runtime": runtime,
            "status": "ok",
            "reason": None,
            "runtime_acc": 1 - wrong / N,
            "runtime_predictions": kept.name,
            "runtime_predictions_sha256": sha,
        } | identity
        paths.append(folder / "bench" / f"{runtime}.json")
        io.write_json(paths[-1], record)
    return paths


def test_each_runtime_is_tested_against_its_runs_eager_model(tmp_path):
    # eager 900 right; onnxruntime the same predictions; int8 loses 45 of them (ratio 0.95).
    paths = _bench_records(tmp_path, {"eager": 100, "onnxruntime": 100, "int8": 145})
    table = read_bench(paths)[0].set_index("runtime")
    assert table.loc["int8", "predictions_path"] == str(tmp_path / "bench" / "int8_predictions.npz")
    tested = with_runtime_target(table.reset_index(), 0.99).set_index("runtime")
    assert tested.loc["eager", "meets_target"] is True and np.isnan(
        tested.loc["eager", "acc_ratio"]
    )
    assert (
        tested.loc["onnxruntime", "acc_ratio"] == 1.0 and tested.loc["onnxruntime", "meets_target"]
    )
    assert tested.loc["int8", "acc_ratio"] == 855 / 900
    assert tested.loc["int8", "acc_ratio_lo"] < 0.95 and not tested.loc["int8", "meets_target"]
    assert with_runtime_target(tested.loc[["int8"]].reset_index(), 0.9)["meets_target"].isna().all()
    sentence = runtime_target_sentence(tested.reset_index(), 0.99)
    assert sentence.startswith("Accuracy target 0.99 of the eager model's accuracy")
    assert "met by onnxruntime 1.000 (≥ 1.000); not met by int8 0.950 (≥ 0.9" in sentence
    assert with_runtime_target(table, None) is table  # off: unchanged


def test_the_catalog_meets_the_target_only_when_format_and_runtime_both_do(tmp_path):
    runs = _runs(
        tmp_path, [("mlp", "fp32", 0, 100), ("mlp", "fp8", 0, 100), ("mlp", "fp4", 0, 145)]
    )
    runs = runs.assign(host="lab")
    targets = with_accuracy_target(runs, "precision", 0.99)
    bench = []
    for i, precision in enumerate(("fp32", "fp8", "fp4")):
        wrong = {"fp32": 100, "fp8": 100, "fp4": 145}[precision]
        # onnxruntime: eager's predictions; int8: 60 more examples wrong
        bench += _bench_records(
            tmp_path / f"run{i}",
            {"eager": wrong, "onnxruntime": wrong, "int8": wrong + 60},
            study="precision",
            precision=precision,
        )
    runtimes = with_runtime_target(read_bench(bench)[0], 0.99)
    catalog = build_catalog(runs, runtimes, targets).set_index(["precision", "runtime"])
    verdict = catalog["meets_target"].to_dict()
    assert verdict[("fp8", "eager")] and verdict[("fp8", "onnxruntime")]
    assert verdict[("fp8", "int8")] is False  # the format passes, its int8 runtime does not
    assert verdict[("fp4", "eager")] is False and verdict[("fp4", "onnxruntime")] is False
    assert catalog.loc[("fp8", "eager"), "acc_ratio_lo"] == 1.0
    assert catalog.loc[("fp8", "int8"), "runtime_acc_ratio_lo"] < 840 / 900
    no_targets = build_catalog(runs, runtimes).set_index(["precision", "runtime"])
    # Without the runs' own tests only a runtime's failure decides: the rest is untested.
    assert no_targets.xs("int8", level="runtime")["meets_target"].eq(False).all()
    assert no_targets.drop("int8", level="runtime")["meets_target"].isna().all()
