"""The workflow derives a corrupted digits test set and evaluates a trained run on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from data_fixtures import snakemake_target

from tradeoffs.identity import RunId as Run


@pytest.mark.slow
def test_evaluate_rule_runs_on_a_corrupted_set(tmp_path: Path) -> None:
    data_dir, results = tmp_path / "resources", tmp_path / "results"
    study = {
        "datasets": ["digits"],
        "models": ["mnist_cnn"],
        "backends": ["torch-cpu"],
        "train": {"epochs": 2, "batch_size": 64, "limit_train": 256},
        "benchmark": {"warmup": 1, "repeats": 3},
        "eval_on_corrupted": {"corruptions": ["contrast", "gaussian_noise"], "severities": [5]},
    }
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(data_dir),
                "results_dir": str(results),
                "threads": 1,
                "studies": {"robust": study},
            }
        )
    )
    run = Path(Run("robust", "digits", "mnist_cnn", "relu", "fp32", "torch-cpu", 0).folder(results))
    result = snakemake_target(config, run / "metrics.json")
    assert result.returncode == 0, result.stderr[-3000:]
    meta = json.loads((data_dir / "prepared" / "digits-c-contrast-5" / "meta.json").read_text())
    assert (meta["corruption"], meta["severity"], meta["seed"]) == ("contrast", 5, 0)
    corrupted = json.loads((run / "eval_corrupted.json").read_text())
    assert set(corrupted) == {"digits-c-contrast-5", "digits-c-gaussian_noise-5"}
    record = corrupted["digits-c-contrast-5"]
    assert record["status"] == "ok" and record["n"] == meta["test_count"]
    metrics = json.loads((run / "metrics.json").read_text())
    accs = [metrics["eval"][f"digits-c-{c}-5"]["acc"] for c in ("contrast", "gaussian_noise")]
    assert metrics["corruption_acc"] == pytest.approx(sum(accs) / 2)
    assert metrics["corruption_sets"] == 2 and metrics["ood_acc"] is None
    assert metrics["time_to_acc_s"] > 0 and metrics["time_to_acc_fraction"] == 0.95
