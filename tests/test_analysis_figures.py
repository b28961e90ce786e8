"""Every figure draws a non-empty PNG from hand-made records, and says so when data is absent."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_analysis_records import default_results, write_run

from tradeoffs.analysis.figures import (
    DEFAULT_FIGURES,
    DEFAULT_ROBUSTNESS_FIGURES,
    FIGURES,
    HOSTS_FIGURES,
    ROBUSTNESS_FIGURES,
    STUDY_FIGURES,
    SUMMARY_FIGURES,
    SUMMARY_ROBUSTNESS_FIGURES,
    figures_for,
)
from tradeoffs.analysis.figures.draw import draw
from tradeoffs.analysis.load import read_metrics
from tradeoffs.identity import RunId as Run

PNG = b"\x89PNG\r\n\x1a\n"
CASES = [(study, name) for study, names in STUDY_FIGURES.items() for name in names]


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    root = tmp_path_factory.mktemp("results")
    tables = {study: read_metrics(paths) for study, paths in default_results(root).items()}
    tables["summary"] = pd.concat(tables.values(), ignore_index=True)
    return tables


def _assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG) and len(data) > 5000


def test_every_figure_is_drawn_somewhere() -> None:
    used = {name for names in STUDY_FIGURES.values() for name in names}
    used |= {name for names in ROBUSTNESS_FIGURES.values() for name in names}
    used |= {*DEFAULT_ROBUSTNESS_FIGURES, *SUMMARY_ROBUSTNESS_FIGURES, *HOSTS_FIGURES}
    assert used | set(DEFAULT_FIGURES) | set(SUMMARY_FIGURES) == set(FIGURES)
    assert figures_for("my_new_study") == DEFAULT_FIGURES


@pytest.mark.parametrize(("study", "name"), CASES)
def test_study_figure(studies: dict, tmp_path: Path, study: str, name: str) -> None:
    draw(name, studies[study], tmp_path / f"{name}.png", f"{study}: ")
    _assert_png(tmp_path / f"{name}.png")


@pytest.mark.parametrize("name", [*SUMMARY_FIGURES, "overview"])
def test_summary_and_default_figures(studies: dict, tmp_path: Path, name: str) -> None:
    draw(name, studies["summary"], tmp_path / f"{name}.png")
    _assert_png(tmp_path / f"{name}.png")


def test_no_completed_runs_gives_a_placeholder(tmp_path: Path) -> None:
    run = Run("s", "digits", "cnn", "relu", "fp32", "keras-gpu", 0)
    runs = read_metrics([write_run(tmp_path / "r", run, "skipped")])
    draw("learning_curves", runs, tmp_path / "empty.png")
    _assert_png(tmp_path / "empty.png")


def test_missing_measurement_gives_a_placeholder(studies: dict, tmp_path: Path) -> None:
    # The architectures study has no out-of-distribution evaluation.
    draw("generalization", studies["architectures"], tmp_path / "gap.png")
    _assert_png(tmp_path / "gap.png")
