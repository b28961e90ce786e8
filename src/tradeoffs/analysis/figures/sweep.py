"""Throughput against batch size, one panel per trained configuration, one line per runtime
(mean over seeds), from a study's tables/sweep.csv."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from tradeoffs.analysis import style
from tradeoffs.analysis.load import CONFIG_KEYS, config_labels


def throughput_batch(sweep: pd.DataFrame) -> Figure:
    if sweep.empty or "throughput_sps" not in sweep:
        return style.placeholder("No runtime was swept over batch sizes (no ok bench record).")
    sweep = sweep.assign(label=config_labels(sweep, CONFIG_KEYS))
    labels = sorted(sweep["label"].unique())
    names = list(dict.fromkeys(sweep["runtime"]))
    palette = dict(zip(names, style.colors(len(names)), strict=True))
    fig, axes = style.panels(len(labels))
    for ax, label in zip(axes, labels, strict=True):
        means = sweep[sweep["label"] == label].groupby(["runtime", "batch_size"])["throughput_sps"]
        for name, series in means.mean().groupby(level="runtime"):
            points = series.droplevel("runtime")
            ax.plot(
                points.index, points.to_numpy(), "-o", markersize=3, color=palette[name], label=name
            )
        style.log_x(ax)
        ax.set_yscale("log")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("Batch size")
        ax.set_ylabel("Throughput (samples/s)")
        ax.legend(fontsize=8)
    return fig
