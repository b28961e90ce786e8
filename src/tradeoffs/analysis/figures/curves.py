"""Per-epoch curves from history.csv: mean over seeds, one colour per configuration."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure

from tradeoffs.analysis import style
from tradeoffs.analysis.figures import NoDataError
from tradeoffs.analysis.figures.common import ordered, require
from tradeoffs.analysis.load import histories

LINESTYLES = {"train": "-", "test": "--"}


def _histories(runs: pd.DataFrame) -> pd.DataFrame:
    history = histories(runs)
    if history.empty:
        raise NoDataError("No history.csv rows in the completed runs.")
    return history


def curves(runs: pd.DataFrame, panels: Sequence[Sequence[str]]) -> Figure:
    """One panel per group of history columns (e.g. train and test loss); train solid, test
    dashed."""
    history = _histories(runs)
    groups = [require(history, cols, " / ".join(cols)) for cols in panels]
    labels = ordered(history["label"])
    palette = dict(zip(labels, style.colors(len(labels)), strict=True))
    fig, axes = style.panels(len(groups), ncols=min(len(groups), 2), size=(5.0, 3.4))
    for ax, columns in zip(axes, groups, strict=True):
        means = history.groupby(["label", "epoch"])[list(columns)].mean()
        for label in labels:
            for column in columns:
                series = means.loc[label, column].dropna()
                ax.plot(
                    series.index,
                    series.to_numpy(),
                    LINESTYLES.get(column.split("_")[0], "-"),
                    color=palette[label],
                    marker="o",
                    markersize=3,
                    label=f"{label} ({column.split('_')[0]})" if len(columns) > 1 else label,
                )
        ax.set_xlabel(style.label("epoch"))
        metric = columns[-1].split("_", 1)[1]
        ax.set_ylabel(style.label(f"test_{metric}").replace("Test ", "").capitalize())
        kinds = " solid, ".join(c.split("_")[0] for c in columns)
        ax.set_title(f"{ax.get_ylabel()} ({kinds} dashed)" if len(columns) > 1 else ax.get_ylabel())
        ax.xaxis.get_major_locator().set_params(integer=True)
    handles, names = axes[-1].get_legend_handles_labels()
    fig.legend(handles, names, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def precision_curves(runs: pd.DataFrame) -> Figure:
    """Test accuracy and loss per epoch, one column per model, one line per number format,
    averaged over activations and seeds; a pair of rows per dataset."""
    history = _histories(runs)
    datasets, models = ordered(history["dataset"]), ordered(history["model"])
    precisions = ordered(history["precision"], "precision")
    palette = dict(zip(precisions, style.colors(len(precisions)), strict=True))
    rows = [(d, m) for d in datasets for m in ("test_acc", "test_loss")]
    fig, axes = style.panels(len(rows) * len(models), ncols=len(models), size=(3.2, 2.6))
    means = history.groupby(["dataset", "model", "precision", "epoch"])[
        ["test_acc", "test_loss"]
    ].mean()
    for i, (dataset, metric) in enumerate(rows):
        for j, model in enumerate(models):
            ax = axes[i * len(models) + j]
            for precision in precisions:
                key = (dataset, model, precision)
                if key in means.index.droplevel("epoch"):
                    series = means.loc[key, metric].dropna()
                    ax.plot(
                        series.index,
                        series.to_numpy(),
                        marker="o",
                        markersize=2,
                        color=palette[precision],
                        label=precision,
                    )
            ax.set_title(f"{model} · {dataset}")
            ax.set_xlabel(style.label("epoch"))
            ax.set_ylabel(style.label(metric))
            ax.xaxis.get_major_locator().set_params(integer=True)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, title="format", loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig
