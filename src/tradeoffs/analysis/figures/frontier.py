"""The Pareto frontier of accuracy against a cost, over every completed run of every study."""

from __future__ import annotations

import pandas as pd
from adjustText import adjust_text
from matplotlib.figure import Figure

from tradeoffs.analysis import style
from tradeoffs.analysis.comparable import comparable_runs
from tradeoffs.analysis.figures import NoDataError
from tradeoffs.analysis.figures.common import ordered
from tradeoffs.analysis.frontier import COSTS, frontier_points
from tradeoffs.analysis.load import HOST


def point_name(row: pd.Series) -> str:
    return f"{row['model']} {row['precision']} {row['backend']}"


def frontier(runs: pd.DataFrame, cost: str, value: str = "test_acc") -> Figure:
    """All runs as dots coloured by study (by machine when several made them, over the runs
    that compare across machines); frontier members ringed, joined and named; runs tied with a
    frontier point on clean test accuracy (the paired test, `frontier.tied_points`) crossed;
    one panel per dataset (accuracies on different datasets do not compare). `value` is the
    accuracy (clean `test_acc`, or `corruption_acc` under corruption)."""
    several = HOST in runs and runs[HOST].nunique() > 1
    runs = comparable_runs(runs) if several else runs
    return _frontier(runs, cost, value, by=("dataset",), hue=HOST if several else "study")


def frontier_by_host(runs: pd.DataFrame, cost: str, value: str = "test_acc") -> Figure:
    """The frontier of each machine: one panel per dataset and host, dots coloured by study."""
    if HOST not in runs or runs[HOST].dropna().empty:
        raise NoDataError("No run records its host.")
    return _frontier(runs, cost, value, by=("dataset", HOST), hue="study")


def _frontier(runs: pd.DataFrame, cost: str, value: str, by: tuple[str, ...], hue: str) -> Figure:
    column = COSTS[cost]
    if value not in runs:
        raise NoDataError(f"No run has {style.label(value)}.")
    points = frontier_points(runs, column, value, by=by, ties=value == "test_acc")
    if points.empty:
        raise NoDataError(
            f"No completed run has both {style.label(value)} and {style.label(column)}."
        )
    groups = ordered(points[hue])
    palette = dict(zip(groups, style.colors(len(groups)), strict=True))
    panels = list(points.groupby(list(by), sort=True).groups)
    fig, axes = style.panels(len(panels), ncols=min(len(panels), 2), size=(6.0, 4.4))
    for ax, key in zip(axes, panels, strict=True):
        key = key if isinstance(key, tuple) else (key,)
        subset = points
        for name, part in zip(by, key, strict=True):
            subset = subset[subset[name] == part]
        for group in groups:
            mine = subset[subset[hue] == group]
            ax.scatter(
                mine[column], mine[value], s=18, alpha=0.6, color=palette[group], label=group
            )
        best = subset[subset["on_frontier"]]
        ax.step(best[column], best[value], where="post", color="black", lw=1, zorder=1)
        ax.scatter(
            best[column],
            best[value],
            s=70,
            facecolors="none",
            edgecolors="black",
            linewidths=1.2,
            label="frontier",
        )
        tied = subset[subset["tied_with"].notna()] if "tied_with" in subset else subset.iloc[:0]
        if not tied.empty:
            ax.scatter(
                tied[column],
                tied[value],
                s=40,
                marker="x",
                color="black",
                linewidths=1.0,
                label="tied with frontier",
            )
        if (subset[column] > 0).all():
            style.log_axis(ax, "x")
        texts = [
            ax.text(row[column], row[value], point_name(row), fontsize=7)
            for _, row in best.iterrows()
        ]
        # Moved apart from each other and from every point, joined to their point by a line.
        adjust_text(
            texts,
            x=subset[column].to_numpy(float),
            y=subset[value].to_numpy(float),
            ax=ax,
            arrowprops={"arrowstyle": "-", "color": "grey", "lw": 0.5},
        )
        ax.set_xlabel(style.label(column))
        ax.set_ylabel(style.label(value))
        ax.set_title(" on ".join(str(k) for k in key))
    axes[-1].legend(title=hue, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig
