"""A study's figures are drawn by one job, and a rerun redraws only the figures whose inputs
changed: a figure's module, its records, the runs table or its title."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_analysis_records import default_results

from tradeoffs.analysis.figures import STUDY_FIGURES
from tradeoffs.analysis.figures.redraw import draw_stale, drawn_digest
from tradeoffs.analysis.load import read_metrics

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = STUDY_FIGURES["backends"]  # speed and memory (bars.py), accuracy_per_epoch (curves.py)


def backends_results(root: Path) -> tuple[Path, list[Path]]:
    """The backends study's records and runs.csv under `root`; returns runs.csv and the runs'
    history.csv files."""
    metrics = default_results(root / "results")["backends"]
    runs = root / "results" / "backends" / "tables" / "runs.csv"
    runs.parent.mkdir(parents=True)
    read_metrics(metrics).to_csv(runs, index=False)
    return runs, [path.with_name("history.csv") for path in metrics]


def digests(folder: Path) -> dict[str, str | None]:
    return {name: drawn_digest(folder / f"{name}.png") for name in BACKENDS}


def test_a_rerun_redraws_only_the_figures_whose_inputs_changed(tmp_path: Path) -> None:
    runs, histories = backends_results(tmp_path)
    out = tmp_path / "figures"
    records = {"history": histories}
    assert draw_stale(BACKENDS, runs, records, out, "backends: ") == list(BACKENDS)
    first = digests(out)
    assert all(first.values())
    assert draw_stale(BACKENDS, runs, records, out, "backends: ") == []

    with histories[0].open("a") as history:  # one more epoch: only the curves read it
        history.write(histories[0].read_text().splitlines()[-1] + "\n")
    assert draw_stale(BACKENDS, runs, records, out, "backends: ") == ["accuracy_per_epoch"]
    second = digests(out)
    assert second["speed"] == first["speed"] and second["memory"] == first["memory"]
    assert second["accuracy_per_epoch"] != first["accuracy_per_epoch"]

    assert draw_stale(BACKENDS, runs, records, out, "other title: ") == list(BACKENDS)
    (out / "memory.png").write_bytes(b"not a png")
    assert draw_stale(BACKENDS, runs, records, out, "other title: ") == ["memory"]


def _workflow_copy(folder: Path) -> Path:
    for name in ("src", "scripts", "rules", "report", "envs"):
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "Snakefile", folder / "Snakefile")
    return folder / "Snakefile"


def _draw_figures(snakefile: Path, config: Path, targets: list[Path]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", *map(str, targets), "--cores", "1"]
        + ["--configfile", str(config), "-s", str(snakefile)]
        + ["--allowed-rules", "figures_backends"],  # runs.csv and the records exist
        cwd=snakefile.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


@pytest.mark.slow
def test_editing_one_figure_module_redraws_only_its_figures(tmp_path: Path) -> None:
    snakefile = _workflow_copy(tmp_path / "workflow")
    backends_results(tmp_path)
    config = tmp_path / "config.yaml"
    study = {
        "datasets": ["digits"],
        "models": ["mnist_cnn"],
        "backends": ["torch-cpu", "torch-cuda", "torch-mps", "numba-cpu", "numba-cuda"],
    }
    config.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(tmp_path / "resources"),
                "results_dir": str(tmp_path / "results"),
                "studies": {"backends": study},
            }
        )
    )
    figures = tmp_path / "results" / "backends" / "figures"
    targets = [figures / f"{name}.png" for name in BACKENDS]
    _draw_figures(snakefile, config, targets)
    log = tmp_path / "results" / "backends" / "logs" / "figures.log"
    assert log.read_text().count(": drawn") == len(BACKENDS)
    first = digests(figures)

    curves = snakefile.parent / "src" / "tradeoffs" / "analysis" / "figures" / "curves.py"
    curves.write_text(curves.read_text() + "# edited\n")
    _draw_figures(snakefile, config, targets)
    assert "accuracy_per_epoch -> " in log.read_text()
    assert {line.split(" -> ")[0] for line in log.read_text().splitlines() if "drawn" in line} == {
        "accuracy_per_epoch"
    }
    second = digests(figures)
    assert second["accuracy_per_epoch"] != first["accuracy_per_epoch"]
    assert second["speed"] == first["speed"] and second["memory"] == first["memory"]

    # The PNGs it kept were touched: the next run finds nothing to do.
    assert "Nothing to be done" in _draw_figures(snakefile, config, targets)
