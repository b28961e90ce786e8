"""The dashboard's model loading: each engine's own predict path, the run's preprocessing, and a
clear ModelError (never a traceback) for a missing, corrupt or unsafe model file."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from dashboard_fixtures import SCHEMA

from tradeoffs import engines
from tradeoffs.config import check_config, run_study_config
from tradeoffs.dashboard import catalog, predict
from tradeoffs.data.prepared import load_prepared
from tradeoffs.identity import RunId
from tradeoffs.runspec import RunSpec


def _setup(config_path: Path) -> tuple[dict, catalog.Catalog]:
    config = check_config(yaml.safe_load(config_path.read_text()), SCHEMA)
    return config, catalog.load_catalog(config["results_dir"])


def _row(found: catalog.Catalog, backend: str) -> dict:
    return found.finished[found.finished["backend"] == backend].iloc[0].to_dict()


@pytest.mark.parametrize("backend", ["torch-cpu", "keras-cpu"])
def test_predictions_match_the_engines_evaluation(dashboard_config: Path, backend: str) -> None:
    config, found = _setup(dashboard_config)
    row = _row(found, backend)
    model = predict.load_model(row, config)
    spec = predict.run_spec(row, config)
    data = load_prepared(spec.prepared_dir())
    expected = engines.load(spec.framework).predict(spec, "digits").probs
    np.testing.assert_allclose(model.probs(data.test_x[:20]), expected[:20], atol=1e-5)
    assert model.classes == data.classes
    assert model.shape == tuple(data.meta["shape"])
    one = predict.predict(model, data.test_x[3])
    assert one.label == data.classes[int(expected[3].argmax())]
    assert one.confidence == pytest.approx(float(expected[3].max()), abs=1e-5)
    assert [label for label, _ in one.top5][0] == one.label and len(one.top5) == 5
    assert [p for _, p in one.top5] == sorted((p for _, p in one.top5), reverse=True)
    assert 0 < one.ms <= one.ms_p95


def _copy_run(found: catalog.Catalog, backend: str, tmp_path: Path) -> dict:
    row = _row(found, backend)
    copy = tmp_path / "run"
    shutil.copytree(row["path"], copy)
    return {**row, "path": str(copy)}


def test_missing_model_file_is_a_model_error(dashboard_config: Path, tmp_path: Path) -> None:
    config, found = _setup(dashboard_config)
    row = _copy_run(found, "torch-cpu", tmp_path)
    (Path(row["path"]) / "model.pt").unlink()
    with pytest.raises(predict.ModelError, match="missing or empty; rerun its train job"):
        predict.load_model(row, config)


@pytest.mark.parametrize("backend", ["torch-cpu", "keras-cpu"])
def test_corrupt_model_file_is_a_model_error(
    dashboard_config: Path, tmp_path: Path, backend: str
) -> None:
    config, found = _setup(dashboard_config)
    row = _copy_run(found, backend, tmp_path)
    model_file = next(Path(row["path"]).glob("model.*"))
    model_file.write_bytes(model_file.read_bytes()[:200])  # truncated
    with pytest.raises(predict.ModelError, match="could not be loaded .* may be corrupt"):
        predict.load_model(row, config)


class _Payload:
    """Unpickling this would create `marker` (what an unsafe torch.load would do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_pickled_code_in_a_model_file_is_never_run(dashboard_config: Path, tmp_path: Path) -> None:
    config, found = _setup(dashboard_config)
    row = _copy_run(found, "torch-cpu", tmp_path)
    marker = tmp_path / "pwned"
    torch.save({"state_dict": _Payload(marker), "meta": {}}, Path(row["path"]) / "model.pt")
    with pytest.raises(predict.ModelError, match="could not be loaded"):
        predict.load_model(row, config)
    assert not marker.exists()


def test_runs_need_the_config_they_were_trained_with(dashboard_config: Path) -> None:
    config, found = _setup(dashboard_config)
    row = _row(found, "torch-cpu")
    other = {**config, "studies": {**config["studies"]}}
    other["studies"]["backends"] = {**config["studies"]["backends"], "seeds": [0, 1]}
    with pytest.raises(predict.ModelError, match="other 'backends' settings"):
        predict.load_model(row, other)
    del other["studies"]["backends"]
    with pytest.raises(predict.ModelError, match="study 'backends' is not in the config"):
        predict.load_model(row, other)


@pytest.mark.slow
def test_numba_runs_predict_through_their_engine(digits_data_dir: Path, tmp_path: Path) -> None:
    """A numba model.npz (untrained weights: the loading path is what is tested) predicts what
    the numba engine's own predict says (compiles numba kernels, hence slow)."""
    from dashboard_fixtures import tiny_config

    from tradeoffs.models.numba import layout

    raw = tiny_config(digits_data_dir, tmp_path / "results", ["numba-cpu"])
    config = check_config(raw, SCHEMA)
    run_dir = tmp_path / "results/backends/runs/digits/mnist_cnn/relu/fp32/numba-cpu/seed0"
    spec = RunSpec(
        **RunId("backends", "digits", "mnist_cnn", "relu", "fp32", "numba-cpu", 0).keys(),
        run_dir=run_dir,
        data_dir=digits_data_dir,
        study_config=run_study_config(config["studies"]["backends"], "mnist_cnn"),
    )
    run_dir.mkdir(parents=True)
    from tradeoffs.engines.numba import modelfile

    numba_engine = engines.load("numba")
    modelfile.save(spec, layout.initial_params(0, 10), 10, layout.Norm(0.3, 0.4))
    row = {"run": "numba", "path": str(run_dir), **spec.identity()}
    model = predict.load_model(row, config)
    data = load_prepared(spec.prepared_dir())
    expected = numba_engine.predict(spec, "digits").probs
    np.testing.assert_allclose(model.probs(data.test_x[:8]), expected[:8], atol=1e-6)
