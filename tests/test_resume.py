"""Safe loading and resume (issue 11): checkpoints read without running code, a killed run of
every framework resumes to the uninterrupted result, and the log keeps the earlier epochs."""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from keras_helpers import make_spec as keras_spec
from numba_fixtures import digits_spec
from prepared_digits import write_prepared_digits

from tradeoffs import io
from tradeoffs.config import study_with_defaults
from tradeoffs.engines import load
from tradeoffs.engines.torch import checkpoint as torch_checkpoint
from tradeoffs.identity import RunId
from tradeoffs.runspec import RunSpec

ROOT = Path(__file__).resolve().parents[1]


class KilledError(Exception):
    """Stands in for the job being killed after an epoch."""


def kill_after_first(epoch: int) -> None:
    if epoch == 1:
        raise KilledError


def curve(spec: RunSpec) -> pd.DataFrame:
    history = pd.read_csv(spec.run_dir / "history.csv")
    return history[["epoch", "train_loss", "train_acc", "test_loss", "test_acc"]]


class Planted:
    """A pickle that runs a command when loaded without weights_only."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_planted_torch_checkpoint_runs_no_code(tmp_path):
    write_prepared_digits(tmp_path / "data")
    spec = RunSpec(
        **RunId("s", "digits", "mnist_cnn", "relu", "fp32", "torch-cpu", 0).keys(),
        run_dir=tmp_path / "run",
        data_dir=tmp_path / "data",
        study_config=study_with_defaults(
            {"train": {"epochs": 1, "batch_size": 64, "limit_train": 128}}
        ),
    )
    marker = tmp_path / "PWNED"
    spec.run_dir.mkdir()
    with (spec.run_dir / torch_checkpoint.FILENAME).open("wb") as handle:
        pickle.dump({"config_hash": spec.config_hash, "model": Planted(marker)}, handle)
    load("torch").train(spec)
    assert not marker.exists()
    assert io.read_json(spec.run_dir / "train.json")["epochs_run"] == 1


def test_every_torch_load_is_weights_only():
    """Only a pretrained entry's explicit `trust_code: true` may read a pickle that runs code."""
    src = ROOT / "src" / "tradeoffs"
    calls = [
        f"{path.relative_to(src)}: {line.strip()}"
        for path in src.rglob("*.py")
        for line in path.read_text().splitlines()
        if "torch.load(" in line and "weights_only=True" not in line
    ]
    trusted = (
        "engines/torch/pretrained.py: "
        'return torch.load(path, map_location="cpu", weights_only=False)'
    )
    assert calls == [trusted], calls


@pytest.mark.slow
def test_killed_numba_run_resumes_to_the_uninterrupted_result(tmp_path, capsys):
    from tradeoffs.engines.numba import checkpoint

    engine = load("numba")
    whole = digits_spec(tmp_path / "whole", epochs=3, limit_train=256)
    engine.train(whole)
    resumed = digits_spec(tmp_path / "resumed", epochs=3, limit_train=256)
    with pytest.raises(KilledError):
        engine.train(resumed, on_epoch_end=kill_after_first)
    assert (resumed.run_dir / checkpoint.FILENAME).exists() and not resumed.model_path.exists()
    capsys.readouterr()
    engine.train(resumed)
    assert "resumed after epoch 1" in capsys.readouterr().out
    pd.testing.assert_frame_equal(curve(whole), curve(resumed), check_exact=True)
    with np.load(whole.model_path) as a, np.load(resumed.model_path) as b:
        assert a.files == b.files and all(np.array_equal(a[k], b[k]) for k in a.files)
    assert not (resumed.run_dir / checkpoint.FILENAME).exists()


@pytest.mark.slow
def test_killed_keras_run_resumes_to_the_uninterrupted_result(tmp_path, capsys):
    """`cnn` has dropout: its random generator's state is part of the checkpoint too."""
    from tradeoffs.models.keras import load_model

    engine = load("keras")
    data = write_prepared_digits(tmp_path / "data", 10, 4)
    train = {"epochs": 3, "augment": True, "best_checkpoint": True, "schedule": "cosine"}

    def spec(name: str) -> RunSpec:
        return keras_spec(data, tmp_path / name, "cnn", train=train)

    whole, resumed = spec("whole"), spec("resumed")
    engine.train(whole)
    with pytest.raises(KilledError):
        engine.train(resumed, on_epoch_end=kill_after_first)
    assert not resumed.model_path.exists()
    capsys.readouterr()
    engine.train(resumed)
    assert "resumed after epoch 1" in capsys.readouterr().out
    pd.testing.assert_frame_equal(curve(whole), curve(resumed), check_exact=True)
    a, b = load_model(whole.model_path), load_model(resumed.model_path)
    assert all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights(), strict=True))
    assert (
        io.read_json(resumed.run_dir / "train.json")["best_epoch"]
        == (io.read_json(whole.run_dir / "train.json")["best_epoch"])
    )


@pytest.mark.slow
def test_keras_run_killed_between_its_phases_resumes_to_the_uninterrupted_result(tmp_path):
    """Killed after the frozen phase's last epoch, a transfer run starts fine-tuning as the
    uninterrupted run does: the weights and dropout generator read back, a fresh optimiser
    (the compiled model's checkpoint would carry the first phase's step count and momentum)."""
    from tradeoffs.models.keras import load_model

    engine = load("keras")
    data = write_prepared_digits(tmp_path / "data", 10, 4)

    def spec(name: str) -> RunSpec:
        return keras_spec(
            data,
            tmp_path / name,
            "mobilenetv2",
            study="transfer",
            train={"epochs": 1, "fine_tune_epochs": 1, "optimizer": "sgd", "schedule": "cosine"},
            transfer={"input_size": 32},
            model_options={"mobilenetv2": {"width": 0.35}},
        )

    whole, resumed = spec("whole"), spec("resumed")
    engine.train(whole)
    with pytest.raises(KilledError):
        engine.train(resumed, on_epoch_end=kill_after_first)
    engine.train(resumed)
    assert len(curve(whole)) == 2
    pd.testing.assert_frame_equal(curve(whole), curve(resumed), check_exact=True)
    a, b = load_model(whole.model_path), load_model(resumed.model_path)
    assert all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights(), strict=True))


def test_train_log_is_appended_not_overwritten(tmp_path):
    """A resumed job's log keeps the killed attempt's epochs ("resumed after epoch N" follows
    them): the train job appends to its log, the other steps write theirs afresh."""
    run = "results/backends/runs/digits/mnist_cnn/relu/fp32/torch-cpu/seed0"
    command = [sys.executable, "-m", "snakemake", f"{run}/metrics.json", "-n", "-p"]
    command += ["-s", str(ROOT / "Snakefile"), "-d", str(tmp_path)]
    command += ["--configfile", str(ROOT / "config.yaml")]
    planned = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert re.search(rf"scripts/train\.py .* >> {run}/logs/train\.log 2>&1", planned.stdout)
    assert re.search(rf"scripts/metrics\.py .* > {run}/logs/metrics\.log 2>&1", planned.stdout)
