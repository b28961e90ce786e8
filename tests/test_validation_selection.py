"""No selection on the test set: the validation split, the shared best-epoch and patience
bookkeeping, and in every engine, with best_checkpoint and early_stopping on, a chosen epoch and
a stop that permuting the test labels cannot move."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from prepared_digits import write_prepared_digits

from tradeoffs import io
from tradeoffs.config import study_with_defaults
from tradeoffs.data import DataError
from tradeoffs.data.integrity import array_record
from tradeoffs.data.validation import split_validation
from tradeoffs.engines import load
from tradeoffs.engines.selection import Selection
from tradeoffs.engines.settings import TrainSettings
from tradeoffs.runspec import RunSpec

CHOOSING = {"best_checkpoint": True, "early_stopping": 1, "validation_fraction": 0.2}


def test_split_is_seeded_stratified_disjoint_and_checksummed():
    labels = np.repeat(np.arange(5), 20)
    a = split_validation(labels, 0.2, seed=0)
    again = split_validation(labels, 0.2, seed=0)
    other = split_validation(labels, 0.2, seed=1)
    assert len(a.val) == 20 and len(a.train) == 80
    assert np.intersect1d(a.train, a.val).size == 0
    assert np.bincount(labels[a.val]).tolist() == [4] * 5  # stratified
    np.testing.assert_array_equal(a.val, again.val)
    assert a.sha256 == again.sha256 != other.sha256
    assert a.provenance(0.2) == {"fraction": 0.2, "n": 20, "sha256": a.sha256}


def test_nothing_is_held_out_when_nothing_chooses():
    labels = np.repeat(np.arange(3), 4)
    split = split_validation(labels, settings(validation_fraction=0.2).held_out_fraction, seed=0)
    np.testing.assert_array_equal(split.train, np.arange(12))
    assert split.val.size == 0 and split.provenance(0.2) == {
        "fraction": 0.0,
        "n": 0,
        "sha256": None,
    }


def test_too_small_a_training_set_is_one_clear_error():
    with pytest.raises(DataError, match="validation_fraction"):
        split_validation(np.arange(4), 0.2, seed=0)  # four classes of one image each


def settings(**train: object) -> TrainSettings:
    return TrainSettings.from_cfg(study_with_defaults({"train": train})["train"])


def test_only_a_choosing_run_holds_out_its_validation_fraction():
    assert settings(validation_fraction=0.2).held_out_fraction is None
    assert settings(best_checkpoint=True, validation_fraction=0.2).held_out_fraction == 0.2
    assert settings(early_stopping=3).held_out_fraction == 0.1  # the schema's default


def test_selection_keeps_best_accuracy_and_counts_patience_on_loss():
    chosen = Selection.of(settings(best_checkpoint=True, early_stopping=1))
    assert chosen.update(1, val_loss=1.0, val_acc=0.5, snapshot=lambda: "w1")
    assert not chosen.update(2, val_loss=1.2, val_acc=0.4, snapshot=lambda: "w2")
    assert chosen.stopped
    assert chosen.update(3, val_loss=1.1, val_acc=0.6, snapshot=lambda: "w3")  # not a lower loss
    assert chosen.best_epoch == 3 and chosen.counters.bad_epochs == 2
    assert chosen.kept(failed=False) == "w3" and chosen.saved_epoch(4, failed=False) == 3
    assert chosen.kept(failed=True) is None and chosen.saved_epoch(4, failed=True) == 4
    assert not chosen.update(4, val_loss=None, val_acc=None, snapshot=lambda: "w4")  # no split
    assert chosen.counters.bad_epochs == 2
    chosen.restart_patience()
    assert not chosen.stopped
    resumed = Selection.of(settings(best_checkpoint=True, early_stopping=1), chosen.as_dict(), "w3")
    assert resumed == chosen


def test_without_best_checkpoint_the_last_epoch_is_saved_and_patience_still_counts():
    chosen = Selection.of(settings(early_stopping=2))
    assert not chosen.update(1, val_loss=1.0, val_acc=0.9, snapshot=lambda: "w1")
    chosen.update(2, val_loss=1.1, val_acc=0.1, snapshot=lambda: "w2")
    assert chosen.best_weights is None and chosen.best_epoch == 1 and not chosen.stopped
    chosen.update(3, val_loss=1.2, val_acc=0.1, snapshot=lambda: "w3")
    assert chosen.stopped and chosen.kept(failed=False) is None
    assert chosen.saved_epoch(3, failed=False) == 3 and chosen.saved_epoch(0, failed=False) is None


def with_permuted_test_labels(data_dir: Path, out: Path) -> Path:
    """A copy of `data_dir`'s prepared digits whose test labels are shuffled (meta.json's
    checksum updated, so readers accept it)."""
    src, dst = data_dir / "prepared" / "digits", out / "prepared" / "digits"
    shutil.copytree(src, dst)
    labels = np.load(dst / "test_y.npy")
    permuted = np.random.default_rng(0).permutation(labels)
    assert (permuted != labels).mean() > 0.5
    np.save(dst / "test_y.npy", permuted)
    meta = io.read_json(dst / "meta.json")
    meta["arrays"]["test_y"] = array_record(dst / "test_y.npy", permuted)
    io.write_json(dst / "meta.json", meta)
    return out


def spec_for(backend: str, model: str, run_dir: Path, data_dir: Path, train: dict) -> RunSpec:
    return RunSpec(
        study="test",
        dataset="digits",
        model=model,
        act="relu",
        precision="fp32",
        backend=backend,
        seed=0,
        run_dir=run_dir,
        data_dir=data_dir,
        threads=1,
        study_config=study_with_defaults(
            {"train": train, "benchmark": {"warmup": 1, "repeats": 3}}
        ),
    )


def assert_test_labels_choose_nothing(backend: str, model: str, tmp: Path, train: dict) -> None:
    """Train on the real and on permuted test labels: the validation curve, the chosen epoch,
    the stop and the saved model are the same; only the test curve moves."""
    data = write_prepared_digits(tmp / "data", 12, 8)
    permuted = with_permuted_test_labels(data, tmp / "permuted")
    engine = load(backend.split("-")[0])
    runs, probs = {}, {}
    for name, folder in (("real", data), ("permuted", permuted)):
        spec = spec_for(backend, model, tmp / name, folder, {**train, **CHOOSING})
        engine.train(spec)
        record = io.read_json(spec.run_dir / "train.json")
        runs[name] = (record, pd.read_csv(spec.run_dir / "history.csv"))
        probs[name] = engine.predict(spec, "digits").probs  # same test images, the saved model
    (real, real_curve), (other, other_curve) = runs["real"], runs["permuted"]
    assert real["status"] == other["status"] == "ok"
    for key in ("best_epoch", "epochs_run", "early_stopped"):
        assert real[key] == other[key], key
    pd.testing.assert_frame_equal(
        real_curve[["val_loss", "val_acc"]], other_curve[["val_loss", "val_acc"]]
    )
    assert not real_curve.test_acc.equals(other_curve.test_acc)  # the permutation did bite
    assert real["provenance"]["validation"]["n"] == 24  # 0.2 of 12 x 10 training images
    assert real["provenance"]["validation"]["sha256"] == other["provenance"]["validation"]["sha256"]
    np.testing.assert_array_equal(probs["real"], probs["permuted"])


def test_torch_chooses_on_validation_only(tmp_path):
    train = {"epochs": 4, "batch_size": 32, "optimizer": "sgd", "lr": 0.05}
    assert_test_labels_choose_nothing("torch-cpu", "mnist_cnn", tmp_path, train)


def test_numba_chooses_on_validation_only(tmp_path):
    train = {"epochs": 4, "batch_size": 32, "optimizer": "sgd", "lr": 0.05}
    assert_test_labels_choose_nothing("numba-cpu", "mnist_cnn", tmp_path, train)


@pytest.mark.slow
def test_keras_chooses_on_validation_only(tmp_path):
    train = {"epochs": 3, "batch_size": 32, "optimizer": "adam", "lr": 0.003}
    assert_test_labels_choose_nothing("keras-cpu", "cnn", tmp_path, train)
