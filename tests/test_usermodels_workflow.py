"""The example config configs/examples/your-models.yaml end to end: a model declared with a
builder outside the package (examples/models/mynet.py) trains, is quantised to fp4, runs under
ONNX Runtime and int8, is evaluated on a corrupted set, appears in the tables and in the
dashboard's run list and predicts there; a torchvision and a timm network train one epoch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tradeoffs.config import check_config
from tradeoffs.dashboard import catalog, predict
from tradeoffs.data.prepared import load_prepared

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "examples" / "your-models.yaml"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("your-models")
    snakemake = str(Path(sys.executable).parent / "snakemake")
    command = [snakemake, "--cores", "2", "--nolock", "--configfile", str(EXAMPLE)]
    command += ["--config", f"data_dir={tmp / 'data'}", f"results_dir={tmp / 'results'}"]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=1500, env=env
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return tmp


def run_dir(results: Path, study: str, model: str, precision: str = "fp32") -> Path:
    return (
        results / "results" / study / "runs/digits" / model / "relu" / precision / "torch-cpu/seed0"
    )


@pytest.mark.slow
def test_a_declared_model_goes_through_every_stage(results):
    runs = pd.read_csv(results / "results/yours/tables/runs.csv")
    mine = runs[runs["model"] == "mynet"].set_index("precision")
    assert set(mine.index) == {"fp32", "fp4"}
    assert (mine["status"] == "ok").all()
    assert (mine["test_acc"] > 0.3).all()  # 10 classes: chance is 0.1
    assert mine.loc["fp4", "est_footprint_mb"] < mine.loc["fp32", "est_footprint_mb"]
    runtimes = pd.read_csv(results / "results/yours/tables/runtimes.csv")
    fp32 = runtimes[(runtimes["model"] == "mynet") & (runtimes["precision"] == "fp32")]
    status = dict(zip(fp32["runtime"], fp32["status"], strict=True))
    assert status == {"eager": "ok", "onnxruntime": "ok", "int8": "ok"}
    corrupted = json.loads(
        (run_dir(results, "yours", "mynet", "fp4") / "eval_corrupted.json").read_text()
    )
    assert corrupted["digits-c-contrast-5"]["status"] == "ok"
    train = json.loads((run_dir(results, "yours", "mynet") / "train.json").read_text())
    assert train["params"] > 0 and train["flops"] > 0


@pytest.mark.slow
def test_zoo_networks_train_one_epoch(results):
    for model in ("torchvision.squeezenet1_1", "timm.test_resnet"):
        train = json.loads((run_dir(results, "zoo", model) / "train.json").read_text())
        assert train["status"] == "ok" and train["epochs_run"] == 1
        history = pd.read_csv(run_dir(results, "zoo", model) / "history.csv")
        assert len(history) == 1
    summary = pd.read_csv(results / "results/summary/runs.csv")
    assert {"mynet", "torchvision.squeezenet1_1", "timm.test_resnet"} <= set(summary["model"])


@pytest.mark.slow
def test_the_dashboard_lists_and_rebuilds_a_declared_model(results):
    config = yaml.safe_load(EXAMPLE.read_text())
    config.update(data_dir=str(results / "data"), results_dir=str(results / "results"))
    checked = check_config(config, basedir=ROOT, config_dir=EXAMPLE.parent, probe_models=False)
    found = catalog.load_catalog(checked["results_dir"])
    finished = found.finished
    row = finished[(finished["model"] == "mynet") & (finished["precision"] == "fp4")]
    assert len(row) == 1
    model = predict.load_model(row.iloc[0].to_dict(), checked)
    data = load_prepared(results / "data/prepared/digits")
    guess = predict.predict(model, data.test_x[0])
    assert guess.label in data.classes and 0 < guess.confidence <= 1
