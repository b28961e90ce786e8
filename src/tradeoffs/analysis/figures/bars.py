"""Bar charts of run measurements: mean over seeds, standard deviation as error bars."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tradeoffs.analysis import style
from tradeoffs.analysis.figures.common import labelled_ok_runs, ordered, require


def _panel(ax: Axes, data: pd.DataFrame, metric: str, x: str, hue: str | None) -> bool:
    """Draw one metric's bars; True when a legend is wanted."""
    xs = ordered(data[x], x)
    hues = ordered(data[hue], hue) if hue else [None]
    offsets, width = style.bar_positions(len(hues))
    palette = style.colors(len(hues))
    keys = [x, hue] if hue else [x]
    stats = data.dropna(subset=[metric]).groupby(keys)[metric].agg(["mean", "std"])
    for offset, color, value in zip(offsets, palette, hues, strict=True):
        at = [(xv, value) if hue else xv for xv in xs]
        means = stats["mean"].reindex(at).to_numpy(float)
        stds = stats["std"].reindex(at).fillna(0).to_numpy(float)
        bars = ax.bar(
            np.arange(len(xs)) + offset,
            means,
            width,
            yerr=stds,
            color=color,
            label=value,
            capsize=2,
        )
        if not hue:
            ax.bar_label(bars, labels=[_short(m) for m in means], fontsize=7, padding=2)
    ax.set_xticks(np.arange(len(xs)), [str(v) for v in xs])
    style.rotate_ticks(ax)
    ax.set_ylabel(style.label(metric))
    ax.set_xlabel(x if x != "label" else "configuration")
    ax.set_title(style.label(metric).split(" (")[0])
    if metric in style.LOG_SCALE and (stats["mean"] > 0).all():
        ax.set_yscale("log")
    elif metric in ("test_acc", "binary_mac_ratio"):
        ax.set_ylim(0, 1.05)
    return hue is not None


def _short(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{value:.3g}"


def metric_bars(
    runs: pd.DataFrame, metrics: Sequence[str], x: str | None = None, hue: str | None = None
) -> Figure:
    """One panel per metric that has data; bars per `x` value (default: configuration label),
    one bar per `hue` value within each, averaged over every other key and the seeds."""
    data = labelled_ok_runs(runs)
    present = require(data, metrics, " / ".join(style.label(m) for m in metrics))
    fig, axes = style.panels(len(present))
    legend = False
    for ax, metric in zip(axes, present, strict=True):
        legend = _panel(ax, data, metric, x or "label", hue)
    if legend:
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, title=hue, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig
