"""The Pareto frontier of accuracy against a cost, over every completed run of every study."""

from __future__ import annotations

import pandas as pd
from adjustText import adjust_text
from matplotlib.figure import Figure

from tradeoffs.analysis import style
from tradeoffs.analysis.figures import NoDataError
from tradeoffs.analysis.figures.common import ordered
from tradeoffs.analysis.frontier import COSTS, frontier_points


def point_name(row: pd.Series) -> str:
    return f"{row['model']} {row['precision']} {row['backend']}"


def frontier(runs: pd.DataFrame, cost: str, value: str = "test_acc") -> Figure:
    """All runs as dots coloured by study; frontier members ringed, joined and named; one panel
    per dataset (accuracies on different datasets do not compare). `value` is the accuracy
    (clean `test_acc`, or `corruption_acc` under corruption)."""
    column = COSTS[cost]
    if value not in runs:
        raise NoDataError(f"No run has {style.label(value)}.")
    points = frontier_points(runs, column, value)
    if points.empty:
        raise NoDataError(
            f"No completed run has both {style.label(value)} and {style.label(column)}."
        )
    studies = ordered(points["study"])
    palette = dict(zip(studies, style.colors(len(studies)), strict=True))
    datasets = ordered(points["dataset"])
    fig, axes = style.panels(len(datasets), ncols=min(len(datasets), 2), size=(6.0, 4.4))
    for ax, dataset in zip(axes, datasets, strict=True):
        subset = points[points["dataset"] == dataset]
        for study in studies:
            mine = subset[subset["study"] == study]
            ax.scatter(
                mine[column], mine[value], s=18, alpha=0.6, color=palette[study], label=study
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
        if (subset[column] > 0).all():
            style.log_x(ax)
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
        ax.set_title(dataset)
    axes[-1].legend(title="study", loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig
