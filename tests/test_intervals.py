"""Per-run intervals and the per-example predictions files they and the paired tests read."""

from __future__ import annotations

import numpy as np
import pytest

from tradeoffs.analysis.robustness import corruption_intervals
from tradeoffs.data.integrity import sha256_of
from tradeoffs.evaluation import Predictions, calibration_error, classification_metrics
from tradeoffs.intervals import bootstrap_examples, proportion_ci, wilson
from tradeoffs.records.predictions import (
    SUFFIX,
    ExamplePredictions,
    empty,
    from_probs,
    read,
    read_sets,
    write,
    write_sets,
)


def test_wilson_matches_the_published_interval():
    # 9 of 10: Wilson score 95% interval 0.596 to 0.982 (Newcombe 1998, method 3)
    lo, hi = wilson(9, 10)
    assert lo == pytest.approx(0.5958, abs=1e-4) and hi == pytest.approx(0.9821, abs=1e-4)
    assert wilson(0, 0) is None
    assert proportion_ci(np.array([True] * 9 + [False])) == [lo, hi]


def test_bootstrap_is_seeded_and_zero_width_without_spread():
    values = np.random.default_rng(1).normal(size=200)
    a = bootstrap_examples(lambda i: float(values[i].mean()), 200)
    assert a == bootstrap_examples(lambda i: float(values[i].mean()), 200)
    assert a[0] < values.mean() < a[1]
    assert bootstrap_examples(lambda i: 0.5, 50) == [0.5, 0.5]


def test_calibration_error_is_the_binned_gap():
    confidence = np.array([0.95, 0.95, 0.55, 0.55])
    correct = np.array([True, True, True, False])
    # two bins: |2 - 1.9| + |1 - 1.1|, over 4 examples
    assert calibration_error(confidence, correct) == pytest.approx(0.05)


def test_every_accuracy_of_an_evaluation_has_its_interval():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(10), size=300)
    labels = np.where(rng.random(300) < 0.7, probs.argmax(axis=1), rng.integers(0, 10, 300))
    summary, _, _ = classification_metrics(Predictions(probs, labels, 1.0), list("abcdefghij"))
    for key in ("acc", "top5", "ece"):
        lo, hi = summary[f"{key}_ci"]
        assert lo <= summary[key] <= hi and hi - lo < 0.2, key
    assert summary["acc_ci"] == wilson(round(summary["acc"] * 300), 300)


def test_predictions_file_is_compact_checksummed_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(10), size=1000)
    labels = rng.integers(0, 10, 1000)
    preds = from_probs(probs, labels)
    path = tmp_path / f"digits{SUFFIX}"
    digest = write(path, preds)
    assert digest == sha256_of(path)
    assert path.stat().st_size < 6 * 1000 + 1000  # a few bytes per example
    back = read(path)
    assert back.label.dtype == np.uint16 and back.confidence.dtype == np.float16
    np.testing.assert_array_equal(back.predicted, probs.argmax(axis=1))
    np.testing.assert_allclose(back.confidence, probs.max(axis=1), rtol=1e-3)
    sets = {"digits-c-contrast-3": preds, "digits-c-fog-5": empty()}
    write_sets(tmp_path / "sets.npz", sets)
    again = read_sets(tmp_path / "sets.npz")
    assert sorted(again) == sorted(sets) and len(again["digits-c-fog-5"]) == 0


def test_corruption_intervals_resample_images_across_sets():
    rng = np.random.default_rng(0)
    sets = {}
    for name, rate in (("a", 0.8), ("b", 0.6)):
        labels = rng.integers(0, 10, 400)
        predicted = np.where(rng.random(400) < rate, labels, (labels + 1) % 10)
        conf = np.full(400, 0.7)
        sets[name] = ExamplePredictions(
            labels.astype(np.uint16), predicted.astype(np.uint16), conf.astype(np.float16)
        )
    out = corruption_intervals(sets)
    mean = np.mean([s.correct.mean() for s in sets.values()])
    lo, hi = out["corruption_acc_ci"]
    assert lo < mean < hi and hi - lo < 0.1
    assert out["corruption_ece_ci"][0] <= out["corruption_ece_ci"][1]
