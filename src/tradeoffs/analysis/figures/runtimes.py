"""The runtime axis' figures: throughput against batch size (a study's tables/sweep.csv) and
accuracy against single-stream latency per runtime with the frontier over all runtimes."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from tradeoffs.analysis import style
from tradeoffs.analysis.frontier import frontier_points
from tradeoffs.analysis.load import CONFIG_KEYS, config_labels
from tradeoffs.analysis.runtimes import FRONTIER_COST, FRONTIER_VALUE


def throughput_batch(sweep: pd.DataFrame) -> Figure:
    """One panel per trained configuration, one line per runtime (mean over seeds)."""
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
        style.log_axis(ax, "x")
        style.log_axis(ax, "y")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("Batch size")
        ax.set_ylabel("Throughput (samples/s)")
        ax.legend(fontsize=8)
    return fig


def runtime_frontier_figure(runtimes: pd.DataFrame) -> Figure:
    """One panel per dataset: every ok record, coloured by runtime, and the frontier over all
    runtimes as a step line."""
    points = frontier_points(runtimes, FRONTIER_COST, FRONTIER_VALUE) if not runtimes.empty else []
    if len(points) == 0:
        return style.placeholder("No runtime record with accuracy and single-stream latency.")
    names = list(dict.fromkeys(points["runtime"]))
    palette = dict(zip(names, style.colors(len(names)), strict=True))
    datasets = sorted(points["dataset"].unique())
    fig, axes = style.panels(len(datasets))
    for ax, dataset in zip(axes, datasets, strict=True):
        here = points[points["dataset"] == dataset]
        for name, group in here.groupby("runtime", sort=False):
            ax.scatter(
                group[FRONTIER_COST], group[FRONTIER_VALUE], color=palette[name], label=name, s=18
            )
        front = here[here["on_frontier"]].sort_values(FRONTIER_COST)
        ax.step(front[FRONTIER_COST], front[FRONTIER_VALUE], where="post", color="0.3", lw=1)
        style.log_axis(ax, "x")
        ax.set_title(dataset, fontsize=10)
        ax.set_xlabel("Single-stream latency (p90 at batch 1, ms)")
        ax.set_ylabel("Test accuracy under the runtime")
        ax.legend(fontsize=8)
    return fig
