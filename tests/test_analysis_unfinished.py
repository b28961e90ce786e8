"""Studies in which no run, or one run, finished (issue 26): every table, figure and finding is
still written, saying what did not run and why."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_analysis_records import write_run

from tradeoffs.analysis.figures import figures_for, summary_figures
from tradeoffs.identity import RunId as Run

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("runs.csv", "runs.md", "summary.csv", "summary.md", "comparison.md", "robustness.md")


def run_script(name: str, *args: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", [name, *map(str, args)])
    runpy.run_path(str(ROOT / "scripts" / f"{name}.py"), run_name="__main__")


def aggregate(root: Path, study: str, paths: list[Path], monkeypatch) -> Path:
    out = root / study / "tables"
    run_script(
        "aggregate",
        *("--metrics", *paths, "--study-json", "{}", "--out-dir", out),
        *("--study", study, "--findings", root / study / "findings.md"),
        monkeypatch=monkeypatch,
    )
    return out


def _run(study: str, backend: str, model: str = "mnist_cnn") -> Run:
    return Run(study, "digits", model, "relu", "fp32", backend, 0)


SCENARIOS = {
    # the README's case: a CUDA-only study on a CPU host, every run recorded as skipped
    "all skipped": [("torch-cuda", "skipped")],
    "all failed": [("torch-cpu", "failed"), ("numba-cpu", "failed")],
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_a_study_without_a_finished_run_writes_every_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scenario: str
) -> None:
    study = "backends"
    paths = [write_run(tmp_path, _run(study, b), s) for b, s in SCENARIOS[scenario]]
    out = aggregate(tmp_path, study, paths, monkeypatch)
    for name in TABLES:
        assert (out / name).stat().st_size > 0, name
    comparison = (out / "comparison.md").read_text()
    assert "0 of" in comparison and "test reason" in comparison
    findings = (tmp_path / study / "findings.md").read_text()
    assert "Nothing to compare" in findings and f"({SCENARIOS[scenario][0][1]}: test reason)" in (
        findings
    )
    runs = pd.read_csv(out / "runs.csv")
    from tradeoffs.analysis.figures.draw import draw
    from tradeoffs.analysis.style import save

    titles: list[str] = []
    monkeypatch.setattr(
        "tradeoffs.analysis.figures.draw.style.save",
        lambda fig, path, title, metadata=None: (
            titles.append(title),
            save(fig, path, title, metadata),
        ),
    )
    for figure in figures_for(study, corrupted=True):
        draw(figure, runs, tmp_path / f"{figure}.png")
        assert (tmp_path / f"{figure}.png").stat().st_size > 0
    assert titles and all(t.endswith("(no finished run)") for t in titles)
    run_script(
        "summary",
        "--runs",
        out / "runs.csv",
        "--out-dir",
        tmp_path / "summary",
        monkeypatch=monkeypatch,
    )
    assert "runs_fitting" in (tmp_path / "summary" / "picks.md").read_text()
    summary_runs = pd.read_csv(tmp_path / "summary" / "runs.csv")
    for figure in summary_figures(corrupted=True):
        draw(figure, summary_runs, tmp_path / f"{figure}.png")


def test_a_study_with_one_finished_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [
        write_run(tmp_path, _run("other", "torch-cpu", "cnn"), num_classes=10),
        write_run(tmp_path, _run("other", "torch-cuda", "cnn"), "skipped"),
    ]
    out = aggregate(tmp_path, "other", paths, monkeypatch)
    comparison = (out / "comparison.md").read_text()
    assert "| cnn " in comparison and "90" in comparison
    findings = (tmp_path / "other" / "findings.md").read_text()
    assert "1 skipped (skipped: test reason)" in findings
    runs = pd.read_csv(out / "runs.csv")
    from tradeoffs.analysis.figures.draw import draw

    for figure in figures_for("other"):
        draw(figure, runs, tmp_path / f"{figure}.png")
        assert (tmp_path / f"{figure}.png").stat().st_size > 0
