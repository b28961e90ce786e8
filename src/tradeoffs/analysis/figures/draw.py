"""Draw one named figure from a runs table into a PNG."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from tradeoffs.analysis import style
from tradeoffs.analysis.figures import FIGURES, NoDataError
from tradeoffs.analysis.load import finished_note, ok_runs


def draw(
    name: str,
    runs: pd.DataFrame,
    output: str | Path,
    title_prefix: str = "",
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write figure `name` to `output` (`metadata`: PNG text fields); a figure without data
    says what is missing instead."""
    spec = FIGURES[name]
    title = f"{title_prefix}{spec.title}"
    if ok_runs(runs).empty:
        fig = style.placeholder(f"Nothing to draw: {finished_note(runs)}")
        title += " (no finished run)"
    else:
        function = getattr(importlib.import_module(f"{__package__}.{spec.module}"), spec.function)
        try:
            fig = function(runs, **spec.options)
        except NoDataError as missing:
            fig = style.placeholder(str(missing))
            title += " (no data)"
    style.save(fig, output, title, metadata)
