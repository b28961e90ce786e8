"""Findings text from hand-made runs tables: the numbers it quotes, the did-not-learn flag, the
seeds' spread, and the timings table."""

import pandas as pd

from tradeoffs.analysis import aggregate, findings, timings


def runs(rows: list[dict]) -> pd.DataFrame:
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
    return pd.DataFrame([{**base, **row} for row in rows])


def binary_runs() -> pd.DataFrame:
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
        ]
    )


def test_binary_findings_quote_kept_accuracy_and_deployed_size():
    text = findings.findings("binary", binary_runs())
    assert text[0] == (
        "bnn keeps 0.95 of cnn's 0.99 accuracy (0.94) at 1/30 of its deployed size "
        "(0.1 MB against 3 MB)."
    )
    assert not any(sentence.startswith("hybrid keeps") for sentence in text)


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


def test_precision_findings_follow_the_bits_and_the_footprint():
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
    text = findings.findings("precision", runs(rows))
    assert text[0] == (
        "Mean test accuracy by format (cnn, learned in every format): fp32 0.98, e4m3 0.97, "
        "fp4 0.90, fp2 0.30."
    )
    assert text[1] == "Accuracy falls as bits drop: fp32 0.98 to fp2 0.30."
    assert text[2] == "fp2 weights take 1/16 of fp32's deployed footprint (mean over models)."
    assert "vit/fp2" in text[3]


def test_seeds_give_mean_and_std_and_the_spread_is_judged():
    rows = [
        {
            "study": "architectures",
            "model": m,
            "backend": "torch-cpu",
            "seed": s,
            "test_acc": a,
            "latency_ms_p50": 1.0,
        }
        for m, accs in {"resnet18": (0.95, 0.97), "custom_cnn": (0.90, 0.96)}.items()
        for s, a in enumerate(accs)
    ]
    text = findings.findings("architectures", runs(rows))
    assert text[0] == "By test accuracy: resnet18 0.96 ± 0.01, custom_cnn 0.93 ± 0.04."
    assert "is within the seeds' spread of 0.06" in text[1]
    rows[2]["test_acc"], rows[3]["test_acc"] = 0.50, 0.52
    text = findings.findings("architectures", runs(rows))
    assert "exceeds the seeds' spread" in text[1]


def test_backends_agree_on_accuracy_and_differ_in_speed():
    rows = [
        {
            "study": "backends",
            "model": "mnist_cnn",
            "backend": b,
            "test_acc": a,
            "latency_ms_p50": lat,
            "train_throughput_sps": tp,
        }
        for b, a, lat, tp in (("torch-cpu", 0.975, 0.08, 2000.0), ("numba-cpu", 0.972, 0.02, 900.0))
    ]
    text = findings.findings("backends", runs(rows))
    assert text[0] == (
        "Accuracy of the 2 backends that ran agree (within 0.02): torch-cpu 0.97, numba-cpu 0.97."
    )
    assert (
        "Fastest single-image latency (p50): numba-cpu (0.02 ms), 4.00x torch-cpu (0.08 ms)."
        in text
    )


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
