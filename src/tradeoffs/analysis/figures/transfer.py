"""Generalisation: accuracy on the training distribution's test set against another dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tradeoffs.analysis import style
from tradeoffs.analysis.figures.common import labelled_ok_runs, ordered, require
from tradeoffs.analysis.load import varying_keys


def generalization(runs: pd.DataFrame) -> Figure:
    """Test accuracy and out-of-distribution accuracy per configuration (mean over seeds), the
    generalisation gap written above each pair."""
    data = labelled_ok_runs(runs)
    require(data, ["ood_acc"], "out-of-distribution accuracy (the study has no eval_on dataset)")
    labels = ordered(data["label"])
    means = data.groupby("label")[["test_acc", "ood_acc"]].mean().reindex(labels)
    stds = data.groupby("label")[["test_acc", "ood_acc"]].std().reindex(labels)
    stds = stds.mask(stds == 0)  # no error bar for a single seed
    own = "/".join(ordered(data["dataset"]))
    other = "/".join(ordered(data["ood_dataset"].dropna()))
    offsets, width = style.bar_positions(2)
    fig, axes = style.panels(1, size=(max(5.0, 1.1 * len(labels)), 3.8))
    ax = axes[0]
    x = np.arange(len(labels))
    names = {"test_acc": f"{own} test", "ood_acc": f"{other} (out of distribution)"}
    for offset, color, column in zip(
        offsets, style.colors(2), ("test_acc", "ood_acc"), strict=True
    ):
        ax.bar(
            x + offset,
            means[column],
            width,
            yerr=stds[column],
            capsize=2,
            color=color,
            label=names[column],
        )
    for xi, (acc, ood) in enumerate(means[["test_acc", "ood_acc"]].to_numpy()):
        if not np.isnan(acc - ood):
            ax.text(xi, max(acc, ood) + 0.04, f"gap {acc - ood:+.3f}", ha="center", fontsize=7)
    ax.set_xticks(x, labels)
    style.rotate_ticks(ax)
    ax.set_ylim(0, 1.25)
    ax.set_xlabel("/".join(varying_keys(runs)))
    ax.set_ylabel("Accuracy")
    ax.set_title("Accuracy and generalisation gap")
    ax.legend(loc="upper left", ncol=2)
    return fig
