"""Per-class results from the eval CSVs: confusion matrices and per-class F1."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tradeoffs.analysis import style
from tradeoffs.analysis.figures import NoDataError
from tradeoffs.analysis.figures.common import labelled_ok_runs, ordered
from tradeoffs.analysis.load import read_class_report, read_confusion

MAX_ANNOTATED_CLASSES = 12


def confusion(runs: pd.DataFrame, max_panels: int = 6) -> Figure:
    """The confusion matrix of each configuration's first seed on its own test set, shaded by
    the fraction of each true class (recall), counts written in the cells."""
    data = labelled_ok_runs(runs).sort_values("seed").drop_duplicates("label")
    data = data.head(max_panels)
    matrices = [read_confusion(row.path, row.dataset) for row in data.itertuples()]
    if all(m.empty for m in matrices):
        raise NoDataError("No confusion matrices in the completed runs' eval/ folders.")
    fig, axes = style.panels(len(matrices), ncols=min(len(matrices), 2), size=(4.6, 4.2))
    for ax, matrix, label in zip(axes, matrices, data["label"], strict=True):
        counts = matrix.to_numpy(float)
        share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        image = ax.imshow(share, vmin=0, vmax=1, cmap="Blues")
        classes = [str(c) for c in matrix.columns]
        ticks = np.arange(len(classes))
        ax.set_xticks(ticks, classes)
        ax.set_yticks(ticks, classes)
        style.rotate_ticks(ax)
        ax.grid(False)
        if len(classes) <= MAX_ANNOTATED_CLASSES:
            for (r, c), n in np.ndenumerate(counts):
                ax.text(
                    c,
                    r,
                    f"{n:.0f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if share[r, c] > 0.5 else "black",
                )
        ax.set_xlabel("Predicted class")
        ax.set_ylabel("True class")
        ax.set_title(f"{label} (n={counts.sum():.0f})")
        fig.colorbar(image, ax=ax, shrink=0.8, label="Fraction of true class")
    return fig


def per_class_f1(runs: pd.DataFrame) -> Figure:
    """F1 per class on the run's own test set, one bar per configuration (mean over seeds)."""
    data = labelled_ok_runs(runs)
    reports = [
        read_class_report(row.path, row.dataset).assign(label=row.label)
        for row in data.itertuples()
    ]
    table = pd.concat(reports, ignore_index=True) if reports else pd.DataFrame()
    if table.empty:
        raise NoDataError("No per-class reports in the completed runs' eval/ folders.")
    f1 = table.groupby(["class", "label"], sort=False)["f1"].mean()
    classes = list(dict.fromkeys(table["class"]))
    labels = ordered(table["label"])
    offsets, width = style.bar_positions(len(labels))
    fig, axes = style.panels(1, size=(max(6.0, 0.6 * len(classes) * max(1, len(labels) / 2)), 3.6))
    ax = axes[0]
    for offset, color, label in zip(offsets, style.colors(len(labels)), labels, strict=True):
        values = f1.reindex([(c, label) for c in classes]).to_numpy(float)
        ax.bar(np.arange(len(classes)) + offset, values, width, color=color, label=label)
    ax.set_xticks(np.arange(len(classes)), [str(c) for c in classes])
    style.rotate_ticks(ax)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("Class")
    ax.set_ylabel("F1 score")
    ax.set_title("Per-class F1 on the test set")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig
