"""Latency percentiles with bootstrap confidence intervals (scipy.stats.bootstrap).

A tail percentile from a few dozen calls is little more than the slowest call; its interval says
how far it can be trusted, and the sweep keeps timing until the p99 interval is narrow enough.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PERCENTILES = (50, 90, 95, 99)
CONFIDENCE = 0.95
RESAMPLES = 1000


def percentile_ci(
    samples: Sequence[float] | np.ndarray, q: float, seed: int = 0
) -> tuple[float, float]:
    """The 95% percentile-bootstrap interval of the `q`-th percentile of `samples`.

    Percentile intervals, not BCa: BCa's jackknife is degenerate for order statistics of small
    samples. Seeded, so the same samples give the same interval."""
    from scipy import stats  # imported where used: it costs jobs without statistics 0.6 s

    data = np.asarray(samples, dtype=np.float64)
    if data.size < 2:
        raise ValueError("a confidence interval needs at least 2 samples")
    result = stats.bootstrap(
        (data,),
        lambda x, axis: np.percentile(x, q, axis=axis),
        n_resamples=RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def relative_width(value: float, interval: tuple[float, float]) -> float:
    """The interval's width as a fraction of `value` (inf for a zero value)."""
    low, high = interval
    return (high - low) / value if value > 0 else float("inf")


def latency_percentiles(samples_ms: Sequence[float] | np.ndarray) -> dict[str, float | list]:
    """`latency_ms_p{q}` and its interval `latency_ms_p{q}_ci` ([low, high]) for p50 ... p99."""
    data = np.asarray(samples_ms, dtype=np.float64)
    out: dict[str, float | list] = {}
    for q in PERCENTILES:
        out[f"latency_ms_p{q}"] = float(np.percentile(data, q))
        out[f"latency_ms_p{q}_ci"] = list(percentile_ci(data, q))
    return out
