"""Seed 001's model comparison table (accuracy, parameters, size, latency, throughput) as an
image."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from tradeoffs.analysis import style
from tradeoffs.analysis.aggregate import comparison_table, summary_table


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 1000 else f"{value:.3g}"
    return str(value)


def comparison(runs: pd.DataFrame) -> Figure:
    """The comparison table, best test accuracy first, the winner's row highlighted."""
    table = comparison_table(summary_table(runs))
    fig, axes = style.panels(1, size=(1.7 * len(table.columns), 0.45 * (len(table) + 2)))
    ax = axes[0]
    ax.axis("off")
    cells = [[_cell(v) for v in row] for row in table.itertuples(index=False)]
    drawn = ax.table(cellText=cells, colLabels=list(table.columns), loc="center", cellLoc="center")
    drawn.auto_set_font_size(False)
    drawn.set_fontsize(8)
    drawn.scale(1, 1.4)
    for col in range(len(table.columns)):
        drawn[0, col].set_text_props(fontweight="bold")
        drawn[1, col].set_facecolor("#e6f2e6")
    return fig
