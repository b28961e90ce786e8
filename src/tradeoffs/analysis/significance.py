"""Paired comparisons of two configurations on the same test examples, read from the runs'
per-example predictions files (`tradeoffs.records.predictions`); defined in docs/architecture.md,
"Intervals and tests".

- One seed each: the exact McNemar test (a two-sided binomial test of the discordant pairs,
  scipy's `binomtest`) and a paired percentile bootstrap over examples of the accuracy
  difference (`tradeoffs.intervals.bootstrap_examples`).
- Several seeds (paired by seed): the difference is the mean of the per-seed paired differences,
  its interval a Student t interval over those differences (scipy); it is called real only when
  both the test over seeds (Welch's t on the per-seed accuracies: training randomness) and the
  exact McNemar test on the discordant pairs pooled over seeds (test sampling) reject, i.e. the
  p-value is the larger of the two (an intersection-union test, valid at the level of each).
- Accuracy target (non-inferiority): the one-sided 95% lower bound of a run's accuracy ratio to
  its reference run, the 5th percentile of a paired percentile bootstrap over examples
  (`ratio_bound`); the run meets a target when that bound is at least the target.
- Several comparisons in one finding: Benjamini-Hochberg adjusted p-values (scipy's
  `false_discovery_control`), called real below `ALPHA`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from tradeoffs.intervals import LEVEL, RESAMPLES, SEED, bootstrap_examples, wilson
from tradeoffs.records.predictions import ExamplePredictions

ALPHA = 1 - LEVEL


@dataclass(frozen=True)
class Comparison:
    """Accuracy of configuration a minus b on the same test examples."""

    difference: float
    ci: tuple[float, float]
    p_value: float
    n: int  # test examples
    seeds: int  # seed pairs compared
    a_only: int  # examples a gets right and b wrong, summed over seeds
    b_only: int
    p_adjusted: float | None = None  # after the finding's correction, if any

    @property
    def distinguishable(self) -> bool:
        p = self.p_value if self.p_adjusted is None else self.p_adjusted
        return p < ALPHA


class NotPairedError(ValueError):
    """Two prediction files are not of the same test examples."""


def _check_paired(a: ExamplePredictions, b: ExamplePredictions) -> None:
    if len(a) != len(b) or not np.array_equal(a.label, b.label):
        raise NotPairedError(
            f"the two runs were not evaluated on the same test examples ({len(a)} and {len(b)} "
            "examples, or different labels): a paired test needs one test set"
        )


@functools.cache  # the frontiers test many pairs with the same counts; a test costs ms
def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value of the discordant counts (1 when there are none)."""
    from scipy import stats  # imported where used: it costs jobs without statistics 0.6 s

    if a_only + b_only == 0:
        return 1.0
    return float(stats.binomtest(a_only, a_only + b_only, 0.5).pvalue)


def mcnemar_runs(a: ExamplePredictions, b: ExamplePredictions) -> float:
    """The exact McNemar p-value of two runs on the same test examples."""
    _check_paired(a, b)
    ca, cb = a.correct, b.correct
    return mcnemar_exact(int(np.sum(ca & ~cb)), int(np.sum(~ca & cb)))


def compare_runs(a: ExamplePredictions, b: ExamplePredictions) -> Comparison:
    """One run of each configuration: exact McNemar and the paired bootstrap interval."""
    _check_paired(a, b)
    ca, cb = a.correct, b.correct
    a_only, b_only = int(np.sum(ca & ~cb)), int(np.sum(~ca & cb))
    gap = ca.astype(np.float64) - cb.astype(np.float64)
    lo, hi = bootstrap_examples(lambda i: float(gap[i].mean()), len(gap))
    return Comparison(
        float(gap.mean()), (lo, hi), mcnemar_exact(a_only, b_only), len(gap), 1, a_only, b_only
    )


def compare_seeds(pairs: Sequence[tuple[ExamplePredictions, ExamplePredictions]]) -> Comparison:
    """Runs of a and b paired by seed (module docstring); one pair is `compare_runs`."""
    from scipy import stats

    if len(pairs) == 1:
        return compare_runs(*pairs[0])
    per_seed = [compare_runs(a, b) for a, b in pairs]
    gaps = np.array([c.difference for c in per_seed])
    acc_a = np.array([a.correct.mean() for a, _ in pairs])
    acc_b = np.array([b.correct.mean() for _, b in pairs])
    a_only, b_only = sum(c.a_only for c in per_seed), sum(c.b_only for c in per_seed)
    if np.ptp(gaps) == 0:  # every seed pair differs by the same amount: no spread to test
        ci = (float(gaps[0]), float(gaps[0]))
    else:
        t = stats.ttest_1samp(gaps, 0.0).confidence_interval(LEVEL)
        ci = (float(t.low), float(t.high))
    if np.ptp(acc_a) == 0 and np.ptp(acc_b) == 0:  # no seed spread: only test sampling counts
        p_seeds = float(acc_a[0] == acc_b[0])
    else:
        p_seeds = float(stats.ttest_ind(acc_a, acc_b, equal_var=False).pvalue)
    p = max(p_seeds, mcnemar_exact(a_only, b_only))
    return Comparison(float(gaps.mean()), ci, p, per_seed[0].n, len(pairs), a_only, b_only)


def adjust(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """The comparisons of one finding with Benjamini-Hochberg adjusted p-values."""
    from scipy import stats

    if not comparisons:
        return []
    adjusted = stats.false_discovery_control([c.p_value for c in comparisons], method="bh")
    return [replace(c, p_adjusted=float(p)) for c, p in zip(comparisons, adjusted, strict=True)]


@dataclass(frozen=True)
class RatioBound:
    """A run's accuracy as a ratio of its reference's on the same examples."""

    ratio: float
    lower: float  # one-sided LEVEL lower bound
    n: int

    def meets(self, target: float) -> bool:
        return self.lower >= target


def ratio_bound(run: ExamplePredictions, reference: ExamplePredictions) -> RatioBound:
    """Non-inferiority of `run` to `reference` (module docstring): the ratio of their accuracies
    and its one-sided lower bound, from a paired bootstrap over the shared test examples (the
    two-sided interval at 1 - 2 * ALPHA, whose lower end is the one-sided LEVEL bound)."""
    from scipy import stats

    _check_paired(run, reference)
    ca, cr = run.correct.astype(np.float64), reference.correct.astype(np.float64)
    if cr.sum() == 0:
        raise ValueError("the reference run classifies no test example right: no ratio to it")

    def ratio(i: np.ndarray) -> float:
        whole = cr[i].sum()
        return float(ca[i].sum() / whole) if whole else math.nan

    value = ratio(np.arange(len(ca)))
    result = stats.bootstrap(
        (np.arange(len(ca)),),
        ratio,
        vectorized=False,
        n_resamples=RESAMPLES,
        confidence_level=1 - 2 * ALPHA,
        method="percentile",
        rng=np.random.default_rng(SEED),
    )
    lower = float(result.confidence_interval.low)
    return RatioBound(value, lower if np.isfinite(lower) else value, len(ca))


def seed_interval(accuracies: Sequence[float], n: int) -> tuple[float, float]:
    """95% interval of a configuration's mean accuracy: with one seed (or seeds that agree
    exactly) the Wilson interval on its `n` test examples; with several, the Student t interval
    over the seeds' accuracies. The seeds share one test set, so the t interval is about this
    test set's examples; in a seeded simulation 3 seeds covered the population mean at 0.94
    (independent test draws) and 0.93 (one shared test set of varied difficulty)."""
    from scipy import stats

    acc = np.asarray(accuracies, dtype=np.float64)
    if len(acc) > 1 and np.ptp(acc) > 0:
        t = stats.ttest_1samp(acc, 0.0).confidence_interval(LEVEL)
        return max(float(t.low), 0.0), min(float(t.high), 1.0)
    lo, hi = wilson(round(float(acc.mean()) * n), n) or (math.nan, math.nan)
    return lo, hi


def describe(c: Comparison) -> str:
    """ "+0.031 [-0.005, +0.067]", then "indistinguishable at this test size (n = 360)" when the
    test cannot tell the two apart (the wording every finding uses); when the interval excludes 0
    the parenthesis also gives the p-value that decided it."""
    text = f"{c.difference:+.3f} [{c.ci[0]:+.3f}, {c.ci[1]:+.3f}]"
    if c.distinguishable:
        return text
    seeds = f", {c.seeds} seeds" if c.seeds > 1 else ""
    return f"{text}, indistinguishable at this test size (n = {c.n}{seeds}{_why_tied(c)})"


def _why_tied(c: Comparison) -> str:
    """Why a difference whose (unadjusted) interval excludes 0 is still called a tie: the
    finding's multiplicity correction, or the paired test itself, does not reject."""
    if c.ci[0] <= 0 <= c.ci[1]:
        return ""
    if c.p_adjusted is not None and c.p_value < ALPHA:
        return f"; adjusted p = {c.p_adjusted:.2g} over the finding's comparisons"
    return f"; paired-test p = {c.p_value:.2g}"
