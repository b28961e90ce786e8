"""Bar charts of run measurements: mean over seeds, standard deviation as error bars."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tradeoffs.analysis import style
from tradeoffs.analysis.figures.common import (
    accuracy_intervals,
    error_bars,
    labelled_runs,
    ordered,
    require,
)
from tradeoffs.analysis.load import varying_keys


def _value_text(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _flag_not_learned(
    ax: Axes, done: pd.DataFrame, keys: list[str], at: list, xs: np.ndarray, means: np.ndarray
) -> None:
    """Hatch and label the accuracy bars whose runs all did not learn (`analysis.findings`)."""
    if "did_not_learn" not in done:
        return
    flags = done.groupby(keys)["did_not_learn"].all().reindex(at).fillna(False)
    for x, mean, flagged in zip(xs, means, flags.to_numpy(bool), strict=True):
        if flagged:
            ax.bar(x, mean, 0.8 / max(1, len(xs)), fill=False, hatch="///", edgecolor="red")
            ax.text(
                x,
                0.5,
                "did not learn",
                rotation=90,
                ha="center",
                va="center",
                fontsize=7,
                color="red",
            )


def _panel(ax: Axes, runs: pd.DataFrame, metric: str, x: str, hue: str | None) -> None:
    """One metric's bars; an x value without an ok run says why (skipped, failed)."""
    xs = ordered(runs[x], x)
    done = runs[runs["status"] == "ok"]
    hues = ordered(done[hue], hue) if hue else [None]
    offsets, width = style.bar_positions(len(hues))
    keys = [x, hue] if hue else [x]
    stats = done.dropna(subset=[metric]).groupby(keys)[metric].agg(["mean", "std"])
    if metric == "test_acc":  # 95% intervals, not the seeds' spread
        stats = accuracy_intervals(done, keys)
    positions = np.arange(len(xs))
    for offset, color, value in zip(offsets, style.colors(len(hues)), hues, strict=True):
        at = [(xv, value) for xv in xs] if hue else xs
        means = stats["mean"].reindex(at).to_numpy(float)
        if metric == "test_acc":
            errors = error_bars(stats.reindex(at))
        else:
            errors = stats["std"].reindex(at).to_numpy(float, copy=True)
            errors[errors == 0] = np.nan  # no cap for a single seed or equal seeds
        bars = ax.bar(
            positions + offset, means, width, yerr=errors, color=color, label=value, capsize=2
        )
        if not hue:
            texts = ["" if np.isnan(m) else _value_text(m) for m in means]
            ax.bar_label(bars, labels=texts, fontsize=7, padding=2)
        if metric == "test_acc":
            _flag_not_learned(ax, done, keys, at, positions + offset, means)
    for position, xv in zip(positions, xs, strict=True):
        if not stats.index.isin([xv], level=0 if hue else None).any():
            statuses = sorted(set(runs.loc[runs[x] == xv, "status"]))
            why = "/".join(s for s in statuses if s != "ok") or "not measured"
            ax.text(
                position, 0, why, ha="center", va="bottom", fontsize=7, color="grey", rotation=90
            )
    ax.set_xticks(positions, [str(v) for v in xs])
    style.rotate_ticks(ax)
    ax.set_ylabel(style.label(metric))
    ax.set_xlabel(x)
    ax.set_title(style.label(metric).split(" (")[0])
    if metric in ("test_acc", "binary_mac_ratio"):
        ax.set_ylim(0, 1.05)


def metric_bars(
    runs: pd.DataFrame, metrics: Sequence[str], x: str | None = None, hue: str | None = None
) -> Figure:
    """One panel per metric that has data; bars per `x` value (default: the configuration keys
    that vary), one bar per `hue` value within each, averaged over every other key and seed."""
    data = labelled_runs(runs)
    present = require(
        data[data["status"] == "ok"], metrics, " / ".join(style.label(m) for m in metrics)
    )
    if x is None:
        keys = varying_keys(runs)
        x = "/".join(keys)
        data = data.assign(**{x: data["label"]})
    fig, axes = style.panels(len(present))
    for ax, metric in zip(axes, present, strict=True):
        _panel(ax, data, metric, x, hue)
    if hue:
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, title=hue, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig
