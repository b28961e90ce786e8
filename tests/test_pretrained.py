"""Benchmarking models already trained (a study's `pretrained:`): files judged by content before
any job with nothing of them executed, and the import job in place of training."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from torch import nn

from tradeoffs import pretrained
from tradeoffs.config import ConfigError, check_config, run_study_config
from tradeoffs.fileformat import FileFormat

ROOT = Path(__file__).resolve().parents[1]
BUILDER = ROOT / "examples" / "models" / "mynet.py"
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def write_marker(path: str) -> None:
    """The payload: what loading a planted file would run."""
    Path(path).write_text("executed")


class Planted(nn.Module):
    """A whole model whose unpickling writes a marker file."""

    def __init__(self, marker: Path) -> None:
        super().__init__()
        self.marker = str(marker)
        self.fc = nn.Linear(2, 2)

    def __reduce_ex__(self, protocol):
        return (write_marker, (self.marker,))


def mynet_state(path: Path) -> Path:
    sys.path.insert(0, str(BUILDER.parent))
    try:
        import mynet
    finally:
        sys.path.pop(0)
    torch.manual_seed(0)
    torch.save(mynet.build((8, 8, 1), 10, width=8).state_dict(), path)
    return path


def linear_onnx(path: Path) -> Path:
    """An ONNX graph, written with onnx.helper: flatten 1x8x8 digits, one Gemm to 10 logits."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.normal(0, 0.1, (64, 10)).astype(np.float32), "w")
    bias = numpy_helper.from_array(np.zeros(10, np.float32), "b")
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["images"], ["flat"], axis=1),
            helper.make_node("Gemm", ["flat", "w", "b"], ["logits"]),
        ],
        "linear",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        initializer=[weight, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def study(entries: dict, backend: str = "torch-cpu", **extra) -> dict:
    return {"datasets": ["digits"], "backends": [backend], "pretrained": entries, **extra}


def torch_entry(file: str, **extra) -> dict:
    return {"file": file, "framework": "torch", "builder": f"{BUILDER}:build", **extra}


def refused(config: dict, folder: Path) -> str:
    with pytest.raises(ConfigError) as error:
        check_config(config, basedir=ROOT, config_dir=folder, probe_models=False)
    return str(error.value)


def test_a_state_dict_references_only_tensors(tmp_path):
    path = mynet_state(tmp_path / "sd.pt")
    assert pretrained.torch_code_refs(path, FileFormat.TORCH_ZIP) == []
    config = {"studies": {"s": study({"mine": torch_entry("sd.pt", options={"width": 8})})}}
    checked = check_config(config, basedir=ROOT, config_dir=tmp_path, probe_models=False)
    spec = checked["studies"]["s"]
    assert spec["models"] == ["mine"]
    entry = spec["pretrained"]["mine"]
    assert entry["file"] == str(path) and entry["format"] == "torch-zip"
    assert len(entry["sha256"]) == 64 and entry["trust_code"] is False
    # the run's study config holds its builder as a declared model's
    run = run_study_config(spec, "mine")
    assert run["declared_models"]["mine"]["options"] == {"width": 8}


def test_a_pickled_whole_model_is_refused_unread(tmp_path):
    marker = tmp_path / "EXECUTED"
    torch.save(Planted(marker), tmp_path / "whole.pt")
    assert not marker.exists()
    config = {"studies": {"s": study({"whole": torch_entry("whole.pt")})}}
    message = refused(config, tmp_path)
    assert message.startswith("studies.s.pretrained.whole.file:")
    assert "not a plain state dict" in message and "write_marker" in message
    assert "trust_code: true" in message
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["whole.pt"]


def test_trust_code_allows_a_pickled_model_explicitly(tmp_path):
    torch.save(nn.Sequential(nn.Linear(2, 2)), tmp_path / "whole.pt")
    config = {"studies": {"s": study({"whole": torch_entry("whole.pt", trust_code=True)})}}
    checked = check_config(config, basedir=ROOT, config_dir=tmp_path, probe_models=False)
    assert checked["studies"]["s"]["pretrained"]["whole"]["trust_code"] is True


def test_a_keras_lambda_layer_is_refused_unread(tmp_path):
    import tensorflow as tf

    marker = tmp_path / "EXECUTED"

    # no closure: Keras marshals the function's code with the marker's path as a constant
    planted = eval(f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]")  # noqa: S307

    inputs = tf.keras.Input((32, 32, 3))
    x = tf.keras.layers.Lambda(planted)(inputs)
    outputs = tf.keras.layers.Dense(10, activation="softmax")(tf.keras.layers.Flatten()(x))
    tf.keras.Model(inputs, outputs).save(tmp_path / "lambda.keras")
    marker.unlink()  # building the model called it once
    config = {
        "studies": {
            "k": study({"lam": {"file": "lambda.keras", "framework": "keras"}}, "keras-cpu")
        }
    }
    message = refused(config, tmp_path)
    assert message.startswith("studies.k.pretrained.lam.file:")
    assert "a Lambda layer" in message and "trust_code" in message
    assert not marker.exists()


def test_files_are_judged_by_content(tmp_path):
    scripted = torch.jit.script(nn.Linear(2, 2))
    torch.jit.save(scripted, tmp_path / "scripted.pt")
    (tmp_path / "fake.keras").write_bytes(b"\x80\x04not a keras file")
    config = {
        "studies": {
            "s": study({"scripted": torch_entry("scripted.pt")}),
            "k": study({"fake": {"file": "fake.keras", "framework": "keras"}}, "keras-cpu"),
        }
    }
    message = refused(config, tmp_path)
    assert "scripted.pt holds torchscript content; save its state dict" in message
    assert "fake.keras holds pickle content" in message


def test_an_onnx_file_runs_only_in_onnx_runtime(tmp_path):
    linear_onnx(tmp_path / "g.onnx")
    entry = {"g": {"file": "g.onnx", "framework": "onnx"}}
    checked = check_config(
        {"studies": {"s": study(entry)}}, basedir=ROOT, config_dir=tmp_path, probe_models=False
    )
    assert checked["studies"]["s"]["pretrained"]["g"]["format"] == "onnx-candidate"
    config = {"studies": {"s": study(entry, runtimes=["eager", "int8"])}}
    assert "give their study runtimes: [eager]" in refused(config, tmp_path)


def test_a_pretrained_study_keeps_one_precision_and_activation(tmp_path):
    mynet_state(tmp_path / "sd.pt")
    config = {"studies": {"s": study({"m": torch_entry("sd.pt")}, precisions=["fp32", "fp4"])}}
    assert "give their study precisions: [fp32] and activations: [relu]" in refused(
        config, tmp_path
    )


@pytest.fixture(scope="module")
def pretrained_files(tmp_path_factory) -> Path:
    """A torch state dict with its builder and a .keras file, and a config benchmarking both."""
    import tensorflow as tf

    folder = tmp_path_factory.mktemp("pretrained")
    mynet_state(folder / "mynet_sd.pt")
    linear_onnx(folder / "linear.onnx")
    sys.path.insert(0, str(BUILDER.parent))
    try:
        import mynet_keras
    finally:
        sys.path.pop(0)
    tf.keras.utils.set_random_seed(0)
    mynet_keras.build((32, 32, 3), 10).save(folder / "theirs.keras")
    bench = {"warmup": 1, "repeats": 5, "max_seconds": 0.2}
    config = {
        "data_dir": str(folder / "data"),
        "results_dir": str(folder / "results"),
        "studies": {
            "theirs_torch": study(
                {"statedict": torch_entry("mynet_sd.pt", options={"width": 8})},
                runtimes=["eager", "onnxruntime", "int8"],
                eval_on_corrupted={"corruptions": ["contrast"], "severities": [5]},
                benchmark=bench,
            ),
            "theirs_onnx": study(
                {"graph": {"file": "linear.onnx", "framework": "onnx"}}, benchmark=bench
            ),
            "theirs_keras": study(
                {"kfile": {"file": "theirs.keras", "framework": "keras"}},
                "keras-cpu",
                runtimes=["eager", "tflite"],
                benchmark=bench,
            ),
        },
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    return folder


def snakemake(config: Path, *args: str, timeout: int = 300) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    command = [SNAKEMAKE, *args, "--nolock", "--configfile", str(config)]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_pretrained_runs_plan_no_train_job(pretrained_files):
    planned = snakemake(pretrained_files / "config.yaml", "-n", "--cores", "1")
    assert "rule train_" not in planned
    assert "rule import_pretrained_torch:" in planned
    assert "rule import_pretrained_keras:" in planned
    assert planned.count("rule import_pretrained_torch:") == 2  # the state dict, the ONNX file
    assert "scripts/train.py" not in planned


@pytest.mark.slow
def test_pretrained_files_are_evaluated_benchmarked_and_listed(pretrained_files):
    import json

    import pandas as pd

    from tradeoffs.dashboard import catalog, predict

    config = pretrained_files / "config.yaml"
    results = pretrained_files / "results"
    targets = [
        str(results / study / "tables" / table)
        for study in ("theirs_torch", "theirs_onnx", "theirs_keras")
        for table in ("runs.csv", "runtimes.csv")
    ]
    snakemake(config, "--cores", "2", *targets, timeout=1200)
    torch_run = results / "theirs_torch/runs/digits/statedict/relu/fp32/torch-cpu/seed0"
    train = json.loads((torch_run / "train.json").read_text())
    assert train["status"] == "ok" and train["epochs_run"] == 0
    source = train["provenance"]["pretrained"]
    assert source["file"] == str(pretrained_files / "mynet_sd.pt")
    assert source["sha256"] == pretrained.usermodels.sha256_of(pretrained_files / "mynet_sd.pt")
    corrupted = json.loads((torch_run / "eval_corrupted.json").read_text())
    assert corrupted["digits-c-contrast-5"]["status"] == "ok"
    runtimes = pd.concat(
        pd.read_csv(results / study / "tables/runtimes.csv")
        for study in ("theirs_torch", "theirs_onnx", "theirs_keras")
    )
    expected = ["eager", "eager", "eager", "int8", "onnxruntime", "tflite"]
    assert sorted(runtimes["runtime"]) == expected
    assert (runtimes["status"] == "ok").all(), runtimes[["runtime", "status", "reason"]]
    checked = check_config(
        yaml.safe_load(config.read_text()),
        basedir=ROOT,
        config_dir=pretrained_files,
        probe_models=False,
    )
    found = catalog.load_catalog(results).finished
    assert set(found["model"]) == {"statedict", "graph", "kfile"}
    onnx_train = json.loads(
        (results / "theirs_onnx/runs/digits/graph/relu/fp32/torch-cpu/seed0/train.json").read_text()
    )
    assert onnx_train["params"] == 64 * 10 + 10 and onnx_train["flops"] is None
    assert onnx_train["provenance"]["pretrained"]["format"] == "onnx-candidate"
    for _, row in found.iterrows():
        model = predict.load_model(row.to_dict(), checked)
        assert model.probs(load_digits(pretrained_files)).shape == (3, 10)


def load_digits(folder: Path):
    from tradeoffs.data.prepared import load_prepared

    return load_prepared(folder / "data/prepared/digits").test_x[:3]
