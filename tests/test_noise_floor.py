"""The noise floor the findings quote: the benchmark script's record, the study's own seeds,
and the sentence beside the latency findings (which says so when nothing was measured)."""

import math
from pathlib import Path

import pandas as pd
import pytest

from tradeoffs.analysis import findings, noise_floor

JOBS = [
    {"latency_ms_p50": 1.0, "offline_throughput_sps": 900.0},
    {"latency_ms_p50": 2.0, "offline_throughput_sps": 1000.0},
    {"latency_ms_p50": 3.0, "offline_throughput_sps": 1100.0},
]


def test_a_measurement_records_the_run_to_run_cv(tmp_path: Path) -> None:
    record = noise_floor.summarise(JOBS, "lab")
    # population std over the mean: sqrt(2/3) / 2 and sqrt(20000/3) / 1000
    assert record["latency_ms_p50_cv"] == pytest.approx(math.sqrt(2 / 3) / 2)
    assert record["offline_throughput_sps_cv"] == pytest.approx(math.sqrt(20000 / 3) / 1000)
    assert record["jobs"] == 3 and record["host"] == "lab"
    path = tmp_path / noise_floor.FILE
    noise_floor.write(path, record)
    assert noise_floor.measurement(path) == {**record, "path": str(path)}
    assert noise_floor.measurement(tmp_path / "absent.json") is None
    assert noise_floor.measurement(None) is None
    with pytest.raises(ValueError, match="at least 2 jobs"):
        noise_floor.summarise(JOBS[:1], "lab")


def test_a_broken_file_is_reported_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / noise_floor.FILE
    path.write_text("{not json")
    assert "unreadable" in noise_floor.measurement(path)
    path.write_text('{"host": "lab", "jobs": 3}')
    assert "lacks measured" in noise_floor.measurement(path)["unreadable"]
    sentence = noise_floor.noise_sentence(pd.DataFrame({"host": ["lab"]}), {"unreadable": "x"})
    assert sentence == "Noise floor: the noise-floor file is unreadable (x)."


def _runs(latencies: dict[str, list[float]], host: str = "lab") -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"model": m, "seed": s, "status": "ok", "host": host, "latency_ms_p50": v}
            for m, values in latencies.items()
            for s, v in enumerate(values)
        ]
    )


def test_the_study_s_own_seeds_give_a_run_to_run_cv() -> None:
    # cv 0.1 / 1.1 and 0: the median of the two configurations with several seeds
    own = noise_floor.from_seeds(_runs({"a": [1.0, 1.2], "b": [2.0, 2.0], "c": [5.0]}))
    assert own == {"cv": pytest.approx(0.1 / 1.1 / 2), "configurations": 2}
    assert noise_floor.from_seeds(_runs({"a": [1.0], "b": [2.0]})) is None


def test_the_sentence_names_each_source_or_says_none_exists(tmp_path: Path) -> None:
    runs = _runs({"a": [1.0], "b": [2.0]})
    none = noise_floor.noise_sentence(runs, None)
    assert none.startswith("Noise floor: not measured") and "%" not in none
    record = {**noise_floor.summarise(JOBS, "lab"), "path": "results/noise_floor.json"}
    quoted = noise_floor.noise_sentence(runs, record)
    assert "benchmarks/noise_floor.py last measured a run-to-run CV of p50 latency of 40.8%" in (
        quoted
    )
    assert "over 3 jobs on lab (" in quoted and "results/noise_floor.json" in quoted
    other = noise_floor.noise_sentence(_runs({"a": [1.0]}, host="elsewhere"), record)
    assert "on lab, not a machine of this study's runs" in other
    seeds = noise_floor.noise_sentence(_runs({"a": [1.0, 1.2]}), None)
    assert "this study's own repeated benchmark gives a run-to-run CV of p50 latency of 9.1%" in (
        seeds
    )


def test_the_findings_quote_it_beside_the_latency_sentences() -> None:
    runs = pd.DataFrame(
        [
            {
                "study": "architectures",
                "dataset": "digits",
                "model": m,
                "act": "relu",
                "precision": "fp32",
                "backend": "torch-cpu",
                "seed": 0,
                "status": "ok",
                "host": "lab",
                "num_classes": 10,
                "test_acc": acc,
                "latency_ms_p50": lat,
            }
            for m, acc, lat in (("a", 0.9, 1.0), ("b", 0.8, 2.0))
        ]
    )
    sentences = findings.findings("architectures", runs)
    at = next(i for i, s in enumerate(sentences) if s.startswith("By single-image latency"))
    assert sentences[at + 1].startswith("Noise floor: not measured")
    precision = findings.findings("precision", runs.assign(study="precision"))
    assert not any(s.startswith("Noise floor") for s in precision)  # no latency finding
