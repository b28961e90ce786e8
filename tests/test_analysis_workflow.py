"""The Snakefile plans the aggregate, summary and figure rules for any study name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_dry_run_plans_tables_and_figures(tmp_path: Path) -> None:
    config = {
        "data_dir": str(tmp_path / "resources"),
        "results_dir": str(tmp_path / "results"),
        "studies": {
            "architectures": {
                "datasets": ["digits"],
                "models": ["custom_cnn"],
                "backends": ["torch-cpu"],
                "seeds": [0, 1],
            },
            "my_study": {"datasets": ["digits"], "models": ["cnn"], "backends": ["torch-cpu"]},
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--configfile", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    plan = result.stdout
    for rule in (
        "aggregate",
        "summary",
        "figures_architectures",  # the seed's figure set: learning curves, confusion...
        "figures_default",  # a study the registry does not name: overview, learning curves...
        "figures_summary",
    ):
        assert f"rule {rule}:" in plan or f"\n{rule} " in plan, rule
    results = tmp_path / "results"
    assert f"{results}/my_study/figures/overview.png" in plan  # default set for unknown studies
    assert f"{results}/architectures/figures/per_class_f1.png" in plan
    assert f"{results}/summary/frontier_size.csv" in plan
    assert f"{results}/summary/picks.md" in plan
