"""Evaluating a run on another dataset: matched by class name or through an explicit class_map,
refused otherwise, also by the evaluate job itself."""

import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from prepared_digits import write_prepared_digits

from tradeoffs import engines, io
from tradeoffs.classmap import ClassMapError, class_indices
from tradeoffs.config import study_with_defaults
from tradeoffs.data.prepare import prepare
from tradeoffs.data.prepared import load_prepared
from tradeoffs.evaluation import Predictions, relabel
from tradeoffs.runspec import RunSpec

ROOT = Path(__file__).resolve().parents[1]
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def test_same_names_in_another_order_match_by_name():
    assert class_indices(["a", "b", "c"], ["c", "a", "b"]) == [2, 0, 1]


def test_mapping_is_complete_and_one_to_one():
    assert class_indices(["cat", "dog"], ["hund", "katze"], {"katze": "cat", "hund": "dog"}) == [
        1,
        0,
    ]
    with pytest.raises(ClassMapError, match="differ from the training classes"):
        class_indices(["cat", "dog"], ["cat", "dog", "bird"])
    with pytest.raises(ClassMapError, match="'bird' is not mapped"):
        class_indices(["cat", "dog"], ["cat", "bird"], {"cat": "cat"})


def test_relabel_maps_labels_and_rescores_the_loss():
    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    pred = Predictions(probs, np.array([0, 1]), loss=123.0)
    assert relabel(pred, [0, 1]) is pred
    swapped = relabel(pred, [1, 0])
    assert swapped.labels.tolist() == [1, 0]
    assert swapped.loss == pytest.approx(-(np.log(0.1) + np.log(0.2)) / 2)


def digits_as_words(data_dir: Path, root: Path) -> None:
    """Digits' test images as an image folder whose classes are English words (sorted
    alphabetically, so their label order differs from the digits')."""
    digits = load_prepared(data_dir / "prepared" / "digits")
    for split, x, y in (
        ("train", digits.train_x, digits.train_y),
        ("test", digits.test_x, digits.test_y),
    ):
        for i, (image, label) in enumerate(zip(x, y, strict=True)):
            folder = root / split / WORDS[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image[..., 0]).save(folder / f"{i}.png")
    prepare(
        "words",
        {"format": "imagefolder", "path": str(root)},
        data_dir,
        data_dir / "prepared" / "words",
    )


def evaluate(spec: RunSpec, dataset: str, monkeypatch) -> dict:
    argv = ["evaluate.py", "--study", spec.study, "--dataset", spec.dataset]
    argv += ["--model", spec.model, "--act", spec.act, "--precision", spec.precision]
    argv += ["--backend", spec.backend, "--seed", str(spec.seed), "--run-dir", str(spec.run_dir)]
    argv += ["--data-dir", str(spec.data_dir), "--study-json", json.dumps(spec.study_config)]
    argv += ["--eval-dataset", dataset]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(ROOT / "scripts" / "evaluate.py"), run_name="__main__")
    return io.read_json(spec.run_dir / "eval" / f"{dataset}.json")


@pytest.mark.slow
def test_evaluate_job_applies_the_class_map_and_refuses_without_one(tmp_path, monkeypatch):
    data_dir = write_prepared_digits(tmp_path / "data")
    digits_as_words(data_dir, tmp_path / "words")
    train = {"epochs": 4, "batch_size": 64, "optimizer": "sgd", "lr": 0.05}
    study = {"train": train, "benchmark": {"warmup": 1, "repeats": 3}}
    fields = dict(study="t", dataset="digits", model="mnist_cnn", act="relu", precision="fp32")
    fields.update(backend="torch-cpu", seed=0, run_dir=tmp_path / "run", data_dir=data_dir)
    spec = RunSpec(**fields, study_config=study_with_defaults(study))
    engines.load("torch").train(spec)
    with pytest.raises(SystemExit, match="evaluate on words failed: its classes"):
        evaluate(spec, "words", monkeypatch)
    mapped = {"class_map": {"words": {word: str(d) for d, word in enumerate(WORDS)}}}
    spec = RunSpec(**fields, study_config=study_with_defaults({**study, **mapped}))
    on_words = evaluate(spec, "words", monkeypatch)
    on_digits = evaluate(spec, "digits", monkeypatch)
    assert on_words["classes"] == on_digits["classes"] == [str(d) for d in range(10)]
    assert on_words["n"] == on_digits["n"] == 360
    assert on_words["acc"] == pytest.approx(on_digits["acc"]) and on_digits["acc"] > 0.5
    assert on_words["loss"] == pytest.approx(on_digits["loss"], rel=1e-4)
