"""Accuracy across number formats: heat maps per activation and dataset, accuracy against bits."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tradeoffs.analysis import style
from tradeoffs.analysis.figures.common import labelled_ok_runs, ordered, require
from tradeoffs.registry import PRECISION_BITS


def heatmap(runs: pd.DataFrame) -> Figure:
    """Mean test accuracy (over seeds), architecture x format, one map per dataset and
    activation."""
    data = labelled_ok_runs(runs)
    require(data, ["test_acc"], "test accuracy")
    cells = ordered(zip(data["dataset"], data["act"], strict=True))
    models, formats = ordered(data["model"]), ordered(data["precision"], "precision")
    means = data.groupby(["dataset", "act", "model", "precision"])["test_acc"].mean()
    fig, axes = style.panels(
        len(cells),
        ncols=min(len(cells), 4),
        size=(0.7 * len(formats) + 2.2, 0.45 * len(models) + 1.6),
    )
    for ax, (dataset, act) in zip(axes, cells, strict=True):
        grid = np.array(
            [[means.get((dataset, act, m, f), np.nan) for f in formats] for m in models]
        )
        image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        for (r, c), value in np.ndenumerate(grid):
            text = "–" if np.isnan(value) else f"{value:.2f}"
            ax.text(
                c,
                r,
                text,
                ha="center",
                va="center",
                fontsize=7,
                color="black" if value > 0.6 else "white",
            )
        ax.set_xticks(np.arange(len(formats)), formats)
        ax.set_yticks(np.arange(len(models)), models)
        ax.grid(False)
        ax.set_xlabel("Number format")
        ax.set_ylabel("Architecture")
        ax.set_title(f"{dataset} · {act}")
    fig.colorbar(image, ax=list(axes), shrink=0.8, label=style.label("test_acc"))
    return fig


def accuracy_vs_bits(runs: pd.DataFrame) -> Figure:
    """Mean test accuracy against bits per value, one line per architecture (mean over
    activations and seeds; formats of equal width averaged), one panel per dataset."""
    data = labelled_ok_runs(runs)
    require(data, ["test_acc"], "test accuracy")
    data = data.assign(bits=data["precision"].map(PRECISION_BITS)).dropna(subset=["bits"])
    datasets, models = ordered(data["dataset"]), ordered(data["model"])
    palette = dict(zip(models, style.colors(len(models)), strict=True))
    fig, axes = style.panels(len(datasets), size=(4.8, 3.4))
    for ax, dataset in zip(axes, datasets, strict=True):
        subset = data[data["dataset"] == dataset]
        means = subset.groupby(["model", "bits"])["test_acc"].agg(["mean", "std"])
        for model in models:
            if model in means.index.get_level_values("model"):
                line = means.loc[model]
                ax.errorbar(
                    line.index,
                    line["mean"],
                    yerr=line["std"].fillna(0),
                    marker="o",
                    markersize=4,
                    capsize=2,
                    color=palette[model],
                    label=model,
                )
        bits = sorted(subset["bits"].unique())
        ax.set_xscale("log", base=2)
        ax.set_xticks(bits, [f"{b:g}" for b in bits])
        ax.minorticks_off()
        ax.set_ylim(0, 1.05)
        ax.set_xlabel(style.label("bits"))
        ax.set_ylabel(style.label("test_acc"))
        ax.set_title(dataset)
    axes[-1].legend(title="architecture", loc="lower right")
    return fig
