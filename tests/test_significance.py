"""Known-answer tests of the paired comparisons (`analysis/significance.py`)."""

from __future__ import annotations

import numpy as np
import pytest

from tradeoffs.analysis import significance as sig
from tradeoffs.records.predictions import ExamplePredictions


def run(labels: np.ndarray, predicted: np.ndarray) -> ExamplePredictions:
    return ExamplePredictions(
        labels.astype(np.uint16), predicted.astype(np.uint16), np.full(len(labels), 0.9, np.float16)
    )


def noisy_run(rng: np.random.Generator, labels: np.ndarray, accuracy: float) -> ExamplePredictions:
    wrong = rng.random(len(labels)) >= accuracy
    return run(labels, np.where(wrong, (labels + 1) % 10, labels))


LABELS = np.random.default_rng(0).integers(0, 10, 1000)


def test_identical_prediction_files_give_p_one_and_zero_width():
    a = noisy_run(np.random.default_rng(1), LABELS, 0.8)
    c = sig.compare_runs(a, a)
    assert c.p_value == 1.0 and c.difference == 0.0 and c.ci == (0.0, 0.0)
    assert not c.distinguishable
    assert (
        sig.describe(c) == "+0.000 [+0.000, +0.000], indistinguishable at this test size (n = 1000)"
    )
    seeds = sig.compare_seeds([(a, a), (a, a), (a, a)])
    assert seeds.p_value == 1.0 and seeds.ci == (0.0, 0.0) and seeds.seeds == 3


def test_runs_differing_on_ten_percent_of_1000_examples_are_called_different():
    a = run(LABELS, LABELS)
    predicted = LABELS.copy()
    predicted[:100] = (predicted[:100] + 1) % 10
    c = sig.compare_runs(a, run(LABELS, predicted))
    assert (c.a_only, c.b_only) == (100, 0) and c.difference == pytest.approx(0.1)
    assert c.p_value < 1e-20 and c.distinguishable
    assert 0.07 < c.ci[0] < 0.1 < c.ci[1] < 0.13
    assert "indistinguishable" not in sig.describe(c)


def test_a_small_difference_on_few_examples_is_indistinguishable():
    labels = LABELS[:360]
    predicted = labels.copy()
    predicted[:4] = (predicted[:4] + 1) % 10  # 4 of 360 more errors
    c = sig.compare_runs(run(labels, labels), run(labels, predicted))
    assert not c.distinguishable and "(n = 360; paired-test p = 0.12)" in sig.describe(c)
    assert c.difference == pytest.approx(4 / 360) and c.p_value == pytest.approx(0.125)


def test_runs_of_other_test_sets_are_refused():
    with pytest.raises(sig.NotPairedError, match="same test examples"):
        sig.compare_runs(run(LABELS, LABELS), run(LABELS[:10], LABELS[:10]))


def test_benjamini_hochberg_adjusts_the_finding_s_p_values():
    base = sig.Comparison(0.01, (0.0, 0.02), 0.04, 100, 1, 5, 1)
    adjusted = sig.adjust([base, sig.Comparison(0.01, (0.0, 0.02), 0.03, 100, 1, 5, 1)])
    assert [c.p_adjusted for c in adjusted] == pytest.approx([0.04, 0.04])
    assert base.distinguishable and adjusted[0].distinguishable
    many = sig.adjust([base] * 1 + [sig.Comparison(0, (0, 0), 0.9, 100, 1, 1, 1)] * 3)
    assert not many[0].distinguishable  # 0.04 x 4 / 1 after correction


def test_three_seeds_of_a_noisy_configuration_cover_the_true_mean_at_the_nominal_rate():
    """Seeded simulation: true accuracy 0.85, seed-to-seed sd 0.02, 360 test examples."""
    rng = np.random.default_rng(2026)
    trials, covered = 2000, 0
    for _ in range(trials):
        seed_acc = np.clip(rng.normal(0.85, 0.02, 3), 0, 1)
        measured = rng.binomial(360, seed_acc) / 360
        lo, hi = sig.seed_interval(measured, 360)
        covered += lo <= 0.85 <= hi
    coverage = covered / trials
    print(f"coverage of 3-seed 95% intervals: {coverage:.3f}")
    assert 0.93 <= coverage <= 0.97


def test_identical_predictions_have_ratio_one_and_meet_a_99_percent_target():
    big = np.random.default_rng(2).integers(0, 10, 10_000)
    a = noisy_run(np.random.default_rng(3), big, 0.9)
    bound = sig.ratio_bound(a, a)
    assert bound.ratio == 1.0 and 0.99 <= bound.lower <= 1.0 and bound.n == 10_000
    assert bound.meets(0.99)


def test_a_few_discordant_examples_on_a_large_test_set_still_meet_the_target():
    big = np.random.default_rng(2).integers(0, 10, 10_000)
    reference = noisy_run(np.random.default_rng(3), big, 0.9)
    flipped = reference.predicted.copy()
    right, wrong = np.flatnonzero(reference.correct), np.flatnonzero(~reference.correct)
    flipped[right[:20]] = (big[right[:20]] + 1) % 10  # 20 examples lost...
    flipped[wrong[:20]] = big[wrong[:20]]  # ... and 20 gained
    bound = sig.ratio_bound(run(big, flipped), reference)
    assert bound.ratio == pytest.approx(1.0) and 0.99 < bound.lower < 1.0
    assert bound.meets(0.99)


def test_a_run_five_percent_worse_on_1000_examples_fails_a_99_percent_target():
    reference = noisy_run(np.random.default_rng(4), LABELS, 0.9)
    right = np.flatnonzero(reference.correct)
    lost = right[: round(0.05 * len(right))]  # 5% of the reference's correct examples
    predicted = reference.predicted.copy()
    predicted[lost] = (LABELS[lost] + 1) % 10
    bound = sig.ratio_bound(run(LABELS, predicted), reference)
    assert bound.ratio == pytest.approx(0.95, abs=0.002) and bound.lower < 0.95
    assert not bound.meets(0.99)
    assert bound.meets(0.9)


def test_ratio_bound_refuses_unpaired_runs():
    with pytest.raises(sig.NotPairedError):
        sig.ratio_bound(run(LABELS, LABELS), run(LABELS[:10], LABELS[:10]))


def test_a_tie_whose_interval_excludes_zero_names_the_p_value_that_decided_it():
    """The findings' correction can keep a difference whose own interval excludes 0 a tie; the
    sentence then says why, rather than an interval that seems to contradict it."""
    corrected = sig.Comparison(-0.039, (-0.075, -0.006), 0.03, 360, 1, 5, 19, p_adjusted=0.08)
    assert sig.describe(corrected) == (
        "-0.039 [-0.075, -0.006], indistinguishable at this test size "
        "(n = 360; adjusted p = 0.08 over the finding's comparisons)"
    )
    untested = sig.Comparison(-0.017, (-0.033, -0.003), 0.06, 360, 1, 4, 10)
    assert sig.describe(untested).endswith("(n = 360; paired-test p = 0.06)")
    covering = sig.Comparison(-0.008, (-0.022, 0.006), 0.3, 360, 1, 4, 7)
    assert sig.describe(covering).endswith("(n = 360)")
