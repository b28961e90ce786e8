"""Model files are judged by content and only safe formats are read (issue 26): an HDF5 file
with a `Lambda` layer named `model.keras` is refused by the benchmark and by the dashboard's
predictor, and its code never runs; torch and numba files of another format are refused with
a message, not a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from dashboard_fixtures import SCHEMA
from keras_helpers import make_spec

from tradeoffs import io
from tradeoffs.config import check_config, study_with_defaults
from tradeoffs.dashboard import catalog, predict
from tradeoffs.fileformat import UnexpectedFormatError, UnsafeModelError
from tradeoffs.identity import RunId
from tradeoffs.runspec import RunSpec

ROOT = Path(__file__).resolve().parents[1]


def _plant_lambda_hdf5(target: Path, marker: Path) -> None:
    """An HDF5 Keras model whose Lambda layer creates `marker` when it runs, saved as
    `target` (whatever its name)."""
    import tensorflow as tf

    code = eval(f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]")  # noqa: S307
    inputs = tf.keras.Input((32, 32, 3))
    flat = tf.keras.layers.Flatten()(tf.keras.layers.Lambda(code)(inputs))
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(10, activation="softmax")(flat))
    h5 = target.with_name("planted.h5")
    model.save(h5)
    marker.unlink()  # building the model ran the lambda once; loading must not
    h5.replace(target)


def _spec_args(spec: RunSpec) -> list[str]:
    return [
        *("--study", spec.study, "--dataset", spec.dataset, "--model", spec.model),
        *("--act", spec.act, "--precision", spec.precision, "--backend", spec.backend),
        *("--seed", str(spec.seed), "--run-dir", str(spec.run_dir)),
        *("--data-dir", str(spec.data_dir), "--study-json", json.dumps(spec.study_config)),
    ]


def _mark_trained(spec: RunSpec) -> None:
    spec.run_dir.mkdir(parents=True, exist_ok=True)
    io.write_json(spec.run_dir / "train.json", {**spec.identity(), "status": "ok", "reason": None})


@pytest.mark.slow
def test_benchmark_refuses_a_lambda_hdf5_named_keras(digits_data_dir: Path, tmp_path: Path) -> None:
    spec = make_spec(digits_data_dir, tmp_path / "run", "cnn")
    _mark_trained(spec)
    marker = tmp_path / "code-ran"
    _plant_lambda_hdf5(spec.model_path, marker)
    output = spec.run_dir / "bench" / "eager.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/benchmark.py"), *_spec_args(spec)]
        + ["--runtime", "eager", "--output", str(output)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        check=False,
    )
    assert done.returncode == 1
    assert "benchmark failed:" in done.stderr and "class 'Lambda' holds code" in done.stderr
    assert "Traceback" not in done.stderr
    assert not marker.exists() and not output.exists()


def _setup(config_path: Path) -> tuple[dict, catalog.Catalog]:
    config = check_config(yaml.safe_load(config_path.read_text()), SCHEMA)
    return config, catalog.load_catalog(config["results_dir"])


def _copied_row(config_path: Path, backend: str, tmp_path: Path) -> tuple[dict, dict]:
    config, found = _setup(config_path)
    row = found.finished[found.finished["backend"] == backend].iloc[0].to_dict()
    copy = tmp_path / "run"
    shutil.copytree(row["path"], copy)
    return config, {**row, "path": str(copy)}


def test_dashboard_refuses_a_lambda_hdf5_named_keras(
    dashboard_config: Path, tmp_path: Path
) -> None:
    config, row = _copied_row(dashboard_config, "keras-cpu", tmp_path)
    marker = tmp_path / "code-ran"
    _plant_lambda_hdf5(Path(row["path"]) / "model.keras", marker)
    with pytest.raises(predict.ModelError, match="refused: .*class 'Lambda' holds code"):
        predict.load_model(row, config)
    assert not marker.exists()


def test_hdf5_of_builtin_layers_still_loads(tmp_path: Path) -> None:
    from tradeoffs.models.keras import build_model, load_model

    path = tmp_path / "cnn.h5"
    model = build_model("cnn", 10, {})
    model.save(path)
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(load_model(path)(images), model(images), atol=1e-6)


def test_keras_loader_refuses_other_formats(tmp_path: Path) -> None:
    from tradeoffs.models.keras import load_model

    pickled = tmp_path / "model.keras"
    torch.save({"a": 1}, pickled, _use_new_zipfile_serialization=False)
    with pytest.raises(UnexpectedFormatError, match="holds pickle content"):
        load_model(pickled)
    saved_model = tmp_path / "sm"
    saved_model.mkdir()
    (saved_model / "saved_model.pb").write_bytes(b"")
    with pytest.raises(UnexpectedFormatError, match="holds savedmodel content"):
        load_model(saved_model)
    weights_only = tmp_path / "w.keras"
    import h5py

    with h5py.File(weights_only, "w") as handle:
        handle["x"] = np.zeros(2)
    with pytest.raises(UnsafeModelError, match="no model_config"):
        load_model(weights_only)


def test_torch_loader_refuses_a_legacy_pickle(digits_data_dir: Path, tmp_path: Path) -> None:
    run = RunId("s", "digits", "mnist_cnn", "relu", "fp32", "torch-cpu", 0)
    spec = RunSpec(**run.keys(), run_dir=tmp_path, data_dir=digits_data_dir)
    legacy = {"state_dict": {}, "meta": {}}
    torch.save(legacy, spec.model_path, _use_new_zipfile_serialization=False)
    from tradeoffs.engines.torch import modelfile

    with pytest.raises(UnexpectedFormatError, match="holds pickle content, not torch-zip"):
        modelfile.load(spec, torch.device("cpu"))
    from tradeoffs.engines.torch import checkpoint

    assert checkpoint.load(spec.model_path, spec.config_hash) is None


def test_numba_loader_refuses_anything_but_a_plain_npz(
    digits_data_dir: Path, tmp_path: Path
) -> None:
    run = RunId("s", "digits", "mnist_cnn", "relu", "fp32", "numba-cpu", 0)
    spec = RunSpec(**run.keys(), run_dir=tmp_path, data_dir=digits_data_dir)
    np.save(spec.model_path, np.zeros(3))  # np.save appends .npy
    Path(f"{spec.model_path}.npy").replace(spec.model_path)
    with pytest.raises(UnexpectedFormatError, match="holds numpy content, not numpy-zip"):
        from tradeoffs.engines.numba import modelfile

        modelfile.load(spec)


def test_benchmark_log_names_a_refused_torch_file(
    digits_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import runpy

    spec = RunSpec(
        **RunId("s", "digits", "mnist_cnn", "relu", "fp32", "torch-cpu", 0).keys(),
        run_dir=tmp_path / "run",
        data_dir=digits_data_dir,
        study_config=study_with_defaults({"benchmark": {"warmup": 1, "repeats": 3}}),
    )
    _mark_trained(spec)
    legacy = {"state_dict": {}, "meta": {}}
    torch.save(legacy, spec.model_path, _use_new_zipfile_serialization=False)
    output = spec.run_dir / "bench" / "eager.json"
    argv = ["benchmark", *_spec_args(spec), "--runtime", "eager", "--output", str(output)]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(ROOT / "scripts/benchmark.py"), run_name="__main__")
    assert str(exit_.value.code).startswith("benchmark failed: ")
    assert "holds pickle content, not torch-zip" in str(exit_.value.code)
    assert not output.exists()
