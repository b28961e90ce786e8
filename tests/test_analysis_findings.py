"""Findings text from hand-made runs tables and predictions files: the numbers and intervals it
quotes, the paired verdicts, the did-not-learn flag, the conditions, and the timings table."""

import re
from pathlib import Path

import numpy as np
import pandas as pd

from tradeoffs.analysis import accuracy_target, aggregate, findings, significance, timings
from tradeoffs.analysis.figures.precision import heatmap
from tradeoffs.records.predictions import SUFFIX, ExamplePredictions, read_run, write

TEST_N = 360
LABELS = np.arange(TEST_N) % 10


def runs(rows: list[dict], folder: Path | None = None) -> pd.DataFrame:
    """A runs table; with `folder`, every ok run gets a predictions file whose first
    (1 - test_acc) * 360 examples are wrong (so a lower accuracy's errors contain a higher's)."""
    base = {
        "dataset": "digits",
        "act": "relu",
        "precision": "fp32",
        "backend": "keras-cpu",
        "seed": 0,
        "status": "ok",
        "reason": None,
        "num_classes": 10,
    }
    table = []
    for i, row in enumerate(rows):
        row = {**base, **row}
        if folder is not None and row["status"] == "ok":
            run_dir = folder / f"run{i}"
            wrong = round((1 - row["test_acc"]) * TEST_N)
            predicted = LABELS.copy()
            predicted[:wrong] = (predicted[:wrong] + 1) % 10
            preds = ExamplePredictions(
                LABELS.astype(np.uint16),
                predicted.astype(np.uint16),
                np.full(TEST_N, 0.9, np.float16),
            )
            write(run_dir / "eval" / f"digits{SUFFIX}", preds)
            row.update({"path": str(run_dir), "eval.digits.n": TEST_N})
        table.append(row)
    return pd.DataFrame(table)


def binary_runs(folder: Path | None = None) -> pd.DataFrame:
    return runs(
        [
            {
                "study": "binary",
                "model": "cnn",
                "test_acc": 0.99,
                "est_footprint_mb": 3.0,
                "size_mem_mb": 3.1,
            },
            {
                "study": "binary",
                "model": "bnn",
                "test_acc": 0.94,
                "est_footprint_mb": 0.1,
                "size_mem_mb": 3.08,
            },
            {
                "study": "binary",
                "model": "hybrid",
                "test_acc": 0.12,
                "est_footprint_mb": 0.5,
                "size_mem_mb": 3.0,
            },
            {
                "study": "binary",
                "model": "cnn",
                "backend": "keras-gpu",
                "test_acc": None,
                "status": "skipped",
                "reason": "no GPU",
            },
        ],
        folder,
    )


def test_binary_findings_quote_kept_accuracy_with_intervals_and_the_paired_difference(tmp_path):
    text = findings.findings("binary", binary_runs(tmp_path))
    assert text[0].startswith("bnn keeps 0.95 of cnn's 0.99 [0.97, 1.00] accuracy (0.94 [0.91, ")
    assert "difference -0.050 [-0.0" in text[0] and "indistinguishable" not in text[0]
    assert text[0].endswith("at 1/30 of its deployed size (0.1 MB against 3 MB).")
    assert not any(sentence.startswith("hybrid keeps") for sentence in text)


def test_without_predictions_files_the_difference_says_it_is_untested():
    text = findings.findings("binary", binary_runs())
    assert "difference -0.050 (no paired test: predictions missing)" in text[0]


def test_a_run_at_chance_is_flagged_and_left_out():
    table = binary_runs()
    assert findings.did_not_learn(table).tolist() == [False, False, True, False]
    text = " ".join(findings.findings("binary", table))
    assert "Did not learn (test accuracy at most 1.5x chance)" in text
    assert "hybrid" in text.split("Did not learn")[1]
    assert "Not run: 1 skipped" in text
    table["did_not_learn"] = findings.did_not_learn(table)
    shown = aggregate.compact_runs(table)
    assert shown.loc[table["model"] == "hybrid", "status"].item() == "did not learn"
    assert shown.loc[table["backend"] == "keras-gpu", "status"].item() == "skipped"


def test_precision_findings_compare_every_format_with_fp32_paired(tmp_path):
    rows = []
    for model, accs in {"cnn": (0.98, 0.97, 0.90, 0.3), "vit": (0.90, 0.88, 0.80, 0.11)}.items():
        for fmt, acc, mb in zip(
            ("fp32", "e4m3", "fp4", "fp2"), accs, (4.0, 1.0, 0.5, 0.25), strict=True
        ):
            rows.append(
                {
                    "study": "precision",
                    "model": model,
                    "precision": fmt,
                    "backend": "torch-cpu",
                    "test_acc": acc,
                    "est_footprint_mb": mb,
                }
            )
    text = findings.findings("precision", runs(rows, tmp_path))
    # One model learned in every format: each mean is its accuracy, with the bootstrap
    # interval over the 360 examples (about Wilson's: 0.30 -> [0.256, 0.348]).
    assert text[0] == (
        "Mean test accuracy by format (cnn, learned in every format) [95% interval over the "
        "test examples]: fp32 0.98 [0.97, 0.99], e4m3 0.97 [0.95, 0.99], fp4 0.90 [0.87, 0.93], "
        "fp2 0.30 [0.25, 0.34]."
    )
    e4m3 = next(t for t in text if t.startswith("e4m3 against fp32"))
    assert (
        "cnn -0.011 [" in e4m3
        and "indistinguishable at this test size (n = 360; paired-test p = 0.12)" in e4m3
    )
    fp4 = next(t for t in text if t.startswith("fp4 against fp32"))
    assert "cnn -0.081 [" in fp4 and "indistinguishable" not in fp4.split("; vit")[0]
    assert (
        "fp2 weights take 1/16 of fp32's deployed footprint (mean over models; computed from "
        "the weights, not sampled: no interval)." in text
    )
    assert "vit/fp2" in text[-1]


def test_seeds_give_intervals_over_seeds_and_the_paired_test_judges(tmp_path):
    def table(accs: dict[str, tuple[float, ...]], folder: Path) -> pd.DataFrame:
        rows = [
            {
                "study": "architectures",
                "model": m,
                "backend": "torch-cpu",
                "seed": s,
                "test_acc": a,
                "latency_ms_p50": 1.0,
            }
            for m, values in accs.items()
            for s, a in enumerate(values)
        ]
        return runs(rows, folder)

    close = table(
        {"resnet18": (0.95, 0.97, 0.96), "custom_cnn": (0.90, 0.96, 0.95)}, tmp_path / "a"
    )
    text = findings.findings("architectures", close)
    assert text[0].startswith("By test accuracy: resnet18 0.96 [0.94, 0.98], custom_cnn 0.94 [")
    assert "indistinguishable at this test size (n = 360, 3 seeds)" in text[1]
    apart = table(
        {"resnet18": (0.95, 0.97, 0.96), "custom_cnn": (0.50, 0.52, 0.51)}, tmp_path / "b"
    )
    text = findings.findings("architectures", apart)
    assert text[1].startswith("resnet18 against custom_cnn: accuracy difference +0.450 [")
    assert "indistinguishable" not in text[1]


def test_backends_compare_accuracy_paired_and_latency_by_intervals(tmp_path):
    rows = [
        {
            "study": "backends",
            "model": "mnist_cnn",
            "backend": b,
            "test_acc": a,
            "latency_ms_p50": lat,
            "latency_ms_p50_ci": ci,
            "train_throughput_sps": tp,
        }
        for b, a, lat, ci, tp in (
            ("torch-cpu", 0.975, 0.08, [0.07, 0.09], 2000.0),
            ("numba-cpu", 0.972, 0.02, [0.01, 0.03], 900.0),
        )
    ]
    text = findings.findings("backends", runs(rows, tmp_path))
    assert text[0].startswith("Accuracy of the 2 backends that ran: torch-cpu 0.97 [")
    assert text[1].startswith("numba-cpu against torch-cpu: accuracy difference -0.003 [")
    assert "indistinguishable at this test size (n = 360)" in text[1]
    latency = (
        "Fastest single-image latency (p50): numba-cpu (0.02 ms [0.01, 0.03]), 4.00x torch-cpu "
        "(0.08 ms [0.07, 0.09]) (bootstrap intervals disjoint)."
    )
    assert latency in text
    training = next(t for t in text if t.startswith("Fastest training throughput"))
    assert training.endswith("(one training run each: no interval, compare with the noise floor).")
    rows[1]["latency_ms_p50_ci"] = [0.01, 0.085]
    text = findings.findings("backends", runs(rows, tmp_path / "overlap"))
    assert any("(bootstrap intervals overlap: indistinguishable)" in t for t in text)


def test_budget_bound_conditions_are_named():
    config = {
        "models": ["mobilenetv2", "base"],
        "backends": ["keras-cpu"],
        "train": {"limit_train": 512},
        "train_by_model": {"gcn": {"limit_train": None}},
        "transfer": {"weights": "none"},
        "model_options": {"mobilenetv2": {"width": 0.5}},
    }
    sentence = findings.conditions_sentence(config)
    assert sentence.startswith("Conditions: no pretrained weights (transfer.weights: none)")
    assert "limit_train: 512, gcn all images" in sentence
    assert "model_options: mobilenetv2 width 0.5" in sentence
    assert findings.findings("transfer", binary_runs(), config=config)[0] == sentence
    assert findings.conditions_sentence({"models": ["cnn"], "train": {}}) is None
    torch_study = {**config, "backends": ["torch-cpu"], "model_options": {}, "train": {}}
    assert findings.conditions_sentence({**torch_study, "train_by_model": {}}) is None


def test_timings_sum_job_seconds_by_rule_and_study(tmp_path):
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    files = {
        "precision/runs/digits/cnn/relu/fp32/torch-cpu/seed0/benchmarks/train.tsv": 10.0,
        "precision/runs/digits/cnn/relu/fp32/torch-cpu/seed0/benchmarks/evaluate_digits.tsv": 4.0,
        "binary/runs/digits/bnn/relu/fp32/keras-cpu/seed0/benchmarks/train.tsv": 20.0,
        "binary/benchmarks/figure_binary_overview.tsv": 3.0,
    }
    paths = []
    for name, seconds in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + f"{seconds}\t0:00:10\t100.5\t1\t1\t1\t0\t0\t50\t{seconds / 2}\n")
        paths.append(path)
    run = tmp_path / "precision/runs/digits/cnn/relu/fp32/torch-cpu/seed0"
    folders = [run, tmp_path / "binary/runs/digits/bnn/relu/fp32/keras-cpu/seed0"]
    folders += [tmp_path / "binary", tmp_path / "summary"]  # no benchmarks/ in summary: none
    (run / "benchmarks" / "notes.txt").write_text("not a benchmark record")
    assert sorted(timings.benchmark_files(folders)) == sorted(paths)
    jobs = timings.read_benchmarks(timings.benchmark_files(folders), tmp_path)
    by_rule = timings.time_table(jobs, "rule").set_index("rule")
    assert by_rule.loc["train", "job_s"] == 30.0 and by_rule.loc["train", "jobs"] == 2
    assert by_rule.loc["evaluate", "cpu_s"] == 2.0
    assert by_rule.loc["all", "job_s"] == 37.0
    assert by_rule.index[0] == "train"  # largest first
    by_study = timings.time_table(jobs, "study").set_index("study")
    assert by_study.loc["binary", "job_s"] == 23.0
    assert abs(by_study.loc["precision", "share"] - 14 / 37) < 1e-12


def test_heat_map_marks_ties_with_the_findings_adjusted_decision(tmp_path):
    # e4m3 gets 6 more examples wrong than fp32 and none right that fp32 misses: the exact
    # McNemar p is 2 / 2**6 = 0.031 alone, 0.0625 after Benjamini-Hochberg with fp4's p = 1.
    rows = [
        {
            "study": "precision",
            "model": "cnn",
            "precision": p,
            "backend": "torch-cpu",
            "test_acc": acc,
        }
        for p, acc in (("fp32", 342 / 360), ("e4m3", 336 / 360), ("fp4", 342 / 360))
    ]
    table = runs(rows, tmp_path)
    e4m3, fp32 = (read_run(table.loc[i, "path"], "digits") for i in (1, 0))
    assert significance.mcnemar_runs(e4m3, fp32) < 0.05  # unadjusted, it would be "different"
    text = findings.findings("precision", table)
    assert "indistinguishable" in next(t for t in text if t.startswith("e4m3 against fp32"))
    keys = ["dataset", "act", "model", "precision"]
    assert findings.tied_with_reference(table, keys) == {
        ("digits", "relu", "cnn", "e4m3"),
        ("digits", "relu", "cnn", "fp4"),
    }
    figure = heatmap(table)
    marks = [t.get_text() for t in figure.axes[0].texts]
    assert sum("≈ fp32" in mark for mark in marks) == 2
    # Far apart (60 examples): distinguishable after the correction too, and left unmarked.
    rows[1]["test_acc"] = 282 / 360
    table = runs(rows, tmp_path / "apart")
    assert findings.tied_with_reference(table, keys) == {("digits", "relu", "cnn", "fp4")}
    marks = [t.get_text() for t in heatmap(table).axes[0].texts]
    assert sum("≈ fp32" in mark for mark in marks) == 1


COMPARATIVE = re.compile(
    r"against|than|keeps|fastest|cheapest|by format|by test accuracy|the most|\d\.\d+x |"
    r"1/\d+ of",
    re.IGNORECASE,
)
INTERVAL = re.compile(r"\[[-+]?\d[\d.e+-]*, [-+]?\d[\d.e+-]*\]|\(≥ \d")


def _synthetic_study(study: str, folder: Path) -> pd.DataFrame:
    """Every kind of comparison the findings make: formats against fp32 (two models, two seeds),
    backends (two seeds), a ranking of models, binarised networks against cnn; each run with a
    predictions file and the benchmark's latency and throughput intervals."""
    grid = {
        "precision": [("cnn", p, "torch-cpu") for p in ("fp32", "e4m3", "fp4")]
        + [("vit", p, "torch-cpu") for p in ("fp32", "e4m3", "fp4")],
        "backends": [("mnist_cnn", "fp32", b) for b in ("torch-cpu", "numba-cpu", "keras-cpu")],
        "architectures": [("resnet18", "fp32", "torch-cpu"), ("custom_cnn", "fp32", "torch-cpu")],
        "binary": [("cnn", "fp32", "keras-cpu"), ("bnn", "fp32", "keras-cpu")],
    }[study]
    rows = []
    for i, (model, precision, backend) in enumerate(grid):
        for seed in (0, 1):
            latency = 1.0 + 0.5 * i + 0.01 * seed
            rows.append(
                {
                    "study": study,
                    "model": model,
                    "precision": precision,
                    "backend": backend,
                    "seed": seed,
                    "test_acc": 0.95 - 0.03 * i - 0.01 * seed,
                    "latency_ms_p50": latency,
                    "latency_ms_p50_ci": str([0.95 * latency, 1.05 * latency]),
                    "infer_throughput_sps": 1000 / latency,
                    "infer_throughput_sps_ci": [950 / latency, 1050 / latency],
                    "train_throughput_sps": 2000.0 / (1 + i) + 10 * seed,
                    "est_footprint_mb": 4.0 / (1 + i),
                    "size_mem_mb": 4.0,
                }
            )
    return runs(rows, folder)


def test_no_comparison_in_the_findings_goes_without_its_interval(tmp_path):
    """A scan of every sentence of complete synthetic studies: a sentence that compares states
    an interval (or a one-sided bound) or says the figure is computed, not sampled."""
    checked = 0
    for study in ("precision", "backends", "architectures", "binary"):
        table = _synthetic_study(study, tmp_path / study)
        table = accuracy_target.with_accuracy_target(table, study, 0.9)
        for sentence in findings.findings(study, table, config={"accuracy_target": 0.9}):
            missing = sentence.replace(findings.EXACT, "")
            assert "no interval" not in missing and "untested" not in missing, sentence
            if COMPARATIVE.search(sentence):
                checked += 1
                assert INTERVAL.search(sentence) or findings.EXACT in sentence, sentence
    assert checked >= 12  # the scan saw the comparisons, not an empty list
