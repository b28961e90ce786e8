"""Accuracy across number formats: heat maps per activation and dataset, accuracy against bits."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tradeoffs.analysis import style
from tradeoffs.analysis.figures.common import (
    accuracy_intervals,
    error_bars,
    labelled_ok_runs,
    labelled_runs,
    ordered,
    require,
)
from tradeoffs.analysis.findings import REFERENCE_PRECISION, tied_with_reference
from tradeoffs.registry import PRECISION_BITS


def heatmap(runs: pd.DataFrame) -> Figure:
    """Mean test accuracy (over seeds), architecture x format, one map per dataset and
    activation; a cell without an ok run names the runs' status, and a cell indistinguishable
    from the model's fp32 by the precision findings' decision (paired test, Benjamini-Hochberg
    adjusted over the study's comparisons: `findings.tied_with_reference`) is marked "≈ fp32"."""
    data = labelled_runs(runs)
    done = data[data["status"] == "ok"]
    require(done, ["test_acc"], "test accuracy")
    cells = ordered(zip(data["dataset"], data["act"], strict=True))
    models, formats = ordered(data["model"]), ordered(data["precision"], "precision")
    keys = ["dataset", "act", "model", "precision"]
    means = done.groupby(keys)["test_acc"].mean()
    status = data.groupby(keys)["status"].agg(lambda s: "/".join(sorted(set(s))))
    not_learned = (
        done.groupby(keys)["did_not_learn"].all() if "did_not_learn" in done else pd.Series()
    )
    tied = tied_with_reference(data, keys)
    fig, axes = style.panels(
        len(cells),
        ncols=min(len(cells), 4),
        size=(0.75 * len(formats) + 2.6, 0.45 * len(models) + 1.6),
    )
    for ax, (dataset, act) in zip(axes, cells, strict=True):
        grid = np.array(
            [[means.get((dataset, act, m, f), np.nan) for f in formats] for m in models]
        )
        image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        for (r, c), value in np.ndenumerate(grid):
            missing = status.get((dataset, act, models[r], formats[c]), "not run")
            text = missing if np.isnan(value) else f"{value:.2f}"
            if not_learned.get((dataset, act, models[r], formats[c]), False):
                text += "\ndid not learn"
            elif (dataset, act, models[r], formats[c]) in tied:
                text += f"\n≈ {REFERENCE_PRECISION}"
            color = "black" if np.isnan(value) or value > 0.6 else "white"
            ax.text(c, r, text, ha="center", va="center", fontsize=7, color=color)
        ax.set_xticks(np.arange(len(formats)), formats)
        ax.set_yticks(np.arange(len(models)), models)
        ax.grid(False)
        ax.set_xlabel("Number format")
        ax.set_ylabel("Architecture")
        ax.set_title(f"{dataset} · {act}")
        fig.colorbar(image, ax=ax, shrink=0.9, label=style.label("test_acc"))
    return fig


def accuracy_vs_bits(runs: pd.DataFrame) -> Figure:
    """Mean test accuracy against bits per value, one line per architecture (mean over
    activations and seeds; formats of equal width averaged), one panel per dataset; error bars
    are 95% intervals (Wilson with one seed, t over several: `accuracy_intervals`)."""
    data = labelled_ok_runs(runs)
    require(data, ["test_acc"], "test accuracy")
    data = data.assign(bits=data["precision"].map(PRECISION_BITS)).dropna(subset=["bits"])
    datasets, models = ordered(data["dataset"]), ordered(data["model"])
    palette = dict(zip(models, style.colors(len(models)), strict=True))
    fig, axes = style.panels(len(datasets), size=(4.8, 3.4))
    for ax, dataset in zip(axes, datasets, strict=True):
        subset = data[data["dataset"] == dataset]
        means = accuracy_intervals(subset, ["model", "bits"])
        for model in models:
            if model in means.index.get_level_values("model"):
                line = means.loc[model]
                ax.errorbar(
                    line.index,
                    line["mean"],
                    yerr=error_bars(line),
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
    axes[-1].legend(title="architecture", loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig
