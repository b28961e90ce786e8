"""95% intervals on a run's accuracy-like figures, from its test examples (docs/architecture.md,
"Intervals and tests"): Wilson score intervals for proportions (scipy's `binomtest`), and a
seeded percentile bootstrap over examples for every other figure (scipy's `bootstrap`, which
resamples example indices, so one resample keeps an example's results together across sets)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

LEVEL = 0.95
RESAMPLES = 1000
SEED = 0  # every bootstrap of the project draws from this seed: reruns give the same interval


def wilson(successes: int, n: int) -> list[float] | None:
    """The Wilson score interval [lo, hi] of `successes` out of `n`; None when n is 0."""
    from scipy import stats  # imported where used: it costs jobs without statistics 0.6 s

    if n <= 0:
        return None
    ci = stats.binomtest(int(successes), int(n)).proportion_ci(LEVEL, method="wilson")
    return [float(ci.low), float(ci.high)]


def bootstrap_examples(statistic: Callable[[np.ndarray], float], n: int) -> list[float] | None:
    """Percentile bootstrap interval of `statistic(indices)` over `n` examples resampled with
    replacement; None when n is 0 or the statistic is undefined (NaN) on some resample. A
    statistic that does not vary gives a zero-width interval."""
    from scipy import stats

    if n <= 0:
        return None
    value = statistic(np.arange(n))
    with warnings.catch_warnings():  # a degenerate or undefined distribution is handled below
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(
            (np.arange(n),),
            statistic,
            vectorized=False,
            n_resamples=RESAMPLES,
            confidence_level=LEVEL,
            method="percentile",
            rng=np.random.default_rng(SEED),
        )
    if np.isnan(result.bootstrap_distribution).any():
        return None
    lo, hi = result.confidence_interval
    if not (np.isfinite(lo) and np.isfinite(hi)):  # every resample equal: no spread
        lo = hi = value
    return [float(lo), float(hi)]


def proportion_ci(values: np.ndarray) -> list[float] | None:
    """Wilson interval of the share of true values in a boolean array."""
    return wilson(int(np.count_nonzero(values)), int(values.size))


def as_interval(value: Any) -> list[float] | None:
    """An interval column's cell as [lo, hi]: a list as a record holds it, or its text
    "[lo, hi]" as a CSV table holds it (read as JSON, never evaluated); None for anything
    else (a missing interval)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if isinstance(value, list | tuple) and len(value) == 2:
        return [float(v) for v in value]
    return None
