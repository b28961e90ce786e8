"""Accuracy under common corruptions: against severity, and per corruption as a heat map."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tradeoffs.analysis import style
from tradeoffs.analysis.figures import NoDataError
from tradeoffs.analysis.figures.common import ordered
from tradeoffs.analysis.robustness import corrupted_long, robustness_table, with_interval
from tradeoffs.identity import KEYS
from tradeoffs.registry import CORRUPTIONS

NAMES = {"precision": "format", "model": "model"}


def _sets(runs: pd.DataFrame) -> pd.DataFrame:
    sets = corrupted_long(runs[runs["status"] == "ok"])
    if sets.empty:
        raise NoDataError("No corrupted test sets in the records (study option eval_on_corrupted).")
    return sets


def _panels(sets: pd.DataFrame, hue: str) -> list[tuple[str, ...]]:
    """One panel per dataset, and per model unless the lines are the models."""
    keys = ["dataset"] if hue == "model" else ["dataset", "model"]
    return ordered(zip(*(sets[k] for k in keys), strict=True))


def accuracy_vs_severity(runs: pd.DataFrame, hue: str) -> Figure:
    """Mean accuracy over corruptions (and seeds, activations) against severity, severity 0
    being the clean test set; one line per `hue` value (format or model), its legend entry
    giving the configuration's mCE with its 95% interval where the study computed one."""
    sets = _sets(runs)
    clean = sets.drop_duplicates(list(KEYS))
    clean = clean.assign(severity=0, acc=clean["test_acc"])
    data = pd.concat([clean, sets], ignore_index=True)
    lines = ordered(data[hue], hue)
    palette = dict(zip(lines, style.colors(len(lines)), strict=True))
    panels = _panels(data, hue)
    fig, axes = style.panels(len(panels), size=(4.2, 3.2))
    for ax, panel in zip(axes, panels, strict=True):
        subset = data[data["dataset"] == panel[0]]
        if len(panel) > 1:
            subset = subset[subset["model"] == panel[1]]
        means = subset.groupby([hue, "severity"])["acc"].mean()
        for line in lines:
            if line in means.index.get_level_values(hue):
                curve = means.loc[line]
                label = f"{line}{_mce_label(runs, panel, hue, line)}"
                ax.plot(
                    curve.index,
                    curve.to_numpy(),
                    marker="o",
                    ms=4,
                    color=palette[line],
                    label=label,
                )
        severities = sorted(subset["severity"].unique())
        ax.set_xticks(severities, ["clean" if s == 0 else str(s) for s in severities])
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("Severity")
        ax.set_ylabel("Accuracy (mean over corruptions)")
        ax.set_title(" · ".join(panel))
    axes[-1].legend(title=NAMES.get(hue, hue), loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def _mce_label(runs: pd.DataFrame, panel: tuple[str, ...], hue: str, line: str) -> str:
    """ ", mCE 1.31 [1.10, 1.52]" for a line that is one configuration with an mCE (mean over
    its seeds, `robustness.config_interval`'s interval); "" otherwise."""
    if "mce" not in runs:
        return ""
    table = robustness_table(runs)
    rows = table[(table["dataset"] == panel[0]) & (table[hue] == line)]
    if len(panel) > 1:
        rows = rows[rows["model"] == panel[1]]
    if len(rows) != 1 or pd.isna(rows["mce"].iloc[0]):
        return ""
    return f", mCE {with_interval(rows['mce'].iloc[0], rows.get('mce_ci', [None]).iloc[0])}"


def corruption_heatmap(runs: pd.DataFrame, columns: str) -> Figure:
    """Mean accuracy (over severities, seeds, activations), corruption (rows) x `columns`
    (format or model), one map per dataset (and model, for formats)."""
    sets = _sets(runs)
    names = ordered(sets[columns], columns)
    corruptions = [c for c in CORRUPTIONS if c in set(sets["corruption"])]
    panels = _panels(sets, columns)
    fig, axes = style.panels(
        len(panels),
        ncols=min(len(panels), 3),
        size=(0.75 * len(names) + 3.2, 0.38 * len(corruptions) + 1.6),
    )
    for ax, panel in zip(axes, panels, strict=True):
        subset = sets[sets["dataset"] == panel[0]]
        if len(panel) > 1:
            subset = subset[subset["model"] == panel[1]]
        means = subset.groupby(["corruption", columns])["acc"].mean()
        grid = np.array([[means.get((c, n), np.nan) for n in names] for c in corruptions])
        image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        for (r, c), value in np.ndenumerate(grid):
            text = "–" if np.isnan(value) else f"{value:.2f}"
            color = "black" if np.isnan(value) or value > 0.6 else "white"
            ax.text(c, r, text, ha="center", va="center", fontsize=7, color=color)
        ax.set_xticks(np.arange(len(names)), names)
        ax.set_yticks(np.arange(len(corruptions)), corruptions)
        ax.grid(False)
        ax.set_xlabel(NAMES.get(columns, columns).capitalize())
        ax.set_title(" · ".join(panel))
        fig.colorbar(image, ax=ax, shrink=0.9, label="Accuracy")
    return fig
