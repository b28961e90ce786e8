"""The Keras engine end to end on a tiny digits folder: train, reload, predict, benchmark."""

import csv
import json
import os

import numpy as np
import pytest
from keras_helpers import make_spec
from prepared_digits import write_prepared_digits

from tradeoffs.engines import load
from tradeoffs.engines.keras import modelfile
from tradeoffs.jobs.benchmark import measurements
from tradeoffs.models.keras import INPUT_SHAPE, load_model
from tradeoffs.records.history import HISTORY_COLUMNS

keras_engine = load("keras")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_prepared_digits(tmp_path_factory.mktemp("data"), 10, 4)


def _history(spec):
    with (spec.run_dir / "history.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_bnn_trains_evaluates_and_benchmarks(data_dir, tmp_path, capsys):
    spec = make_spec(data_dir, tmp_path, "bnn", train={"epochs": 2, "best_checkpoint": True})
    keras_engine.train(spec)

    record = json.loads((tmp_path / "train.json").read_text())
    assert record["status"] == "ok" and record["epochs_run"] == 2
    assert record["best_epoch"] in (1, 2)
    assert record["provenance"]["versions"]["larq"] == "0.14.0"
    rows = _history(spec)
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert tuple(rows[0]) == HISTORY_COLUMNS
    assert capsys.readouterr().out.count("epoch ") == 2  # one progress line per epoch

    pred = keras_engine.predict(spec, "digits")
    assert pred.probs.shape == (40, 10) and pred.labels.shape == (40,)
    assert np.isfinite(pred.loss)
    # The train job evaluates the model it kept when saving, which predicts as the file does.
    kept = modelfile.load(spec.model_path)
    images = np.random.default_rng(0).uniform(0, 255, (4, *INPUT_SHAPE)).astype(np.float32)
    fresh = load_model(spec.model_path)
    np.testing.assert_array_equal(kept(images).numpy(), fresh(images).numpy())

    # The model's facts are train.json's: larq's profile and the sizes.
    assert record["binary_mac_ratio"] > 0.8 and record["binary_params"] > 0
    assert record["size_disk_mb"] > 0 and record["size_mem_mb"] > record["est_footprint_mb"]
    bench = measurements(spec, "eager")  # the engine's device facts and the sweep
    assert bench["bench_batch_size"] == 8 and "binary_mac_ratio" not in bench
    assert bench["latency_ms_p50"] > 0 and bench["infer_throughput_sps"] > 0


def test_same_seed_same_numbers(data_dir, tmp_path):
    losses = []
    for name in ("a", "b"):
        spec = make_spec(data_dir, tmp_path / name, "base")
        keras_engine.train(spec)
        losses.append([row["train_loss"] for row in _history(spec)])
    assert losses[0] == losses[1]


def test_image_size_sets_the_shape_a_model_trains_and_runs_at(data_dir, tmp_path):
    small = make_spec(data_dir, tmp_path / "16", "cnn", train={"image_size": 16})
    keras_engine.train(small)
    assert load_model(small.model_path).input_shape == (None, 16, 16, 3)
    assert keras_engine.predict(small, "digits").probs.shape == (40, 10)
    assert keras_engine.predictor(small)(np.zeros((3, 8, 8, 1), np.uint8)).shape == (3, 10)
    assert measurements(small, "eager")["infer_throughput_sps"] > 0
    # The file fixes the size: a config without image_size (another host's) still feeds 16x16.
    unsized = make_spec(data_dir, tmp_path / "16", "cnn")
    assert keras_engine.predict(unsized, "digits").probs.shape == (40, 10)
    native = make_spec(data_dir, tmp_path / "32", "cnn")
    keras_engine.train(native)
    assert load_model(native.model_path).input_shape == (None, *INPUT_SHAPE)
    # Three poolings leave 2x2 of 16x16 against 4x4 of 32x32: a quarter of the FLOPs.
    flops = [json.loads((s.run_dir / "train.json").read_text())["flops"] for s in (small, native)]
    assert flops[0] == pytest.approx(flops[1] / 4, rel=0.05)


def test_a_trained_file_of_another_input_size_is_refused_with_the_fix(data_dir, tmp_path):
    from tradeoffs.engines.keras.pretrained import import_file
    from tradeoffs.models.keras import build_model
    from tradeoffs.pretrained import PretrainedError

    build_model("cnn", 10, {}).save(tmp_path / "theirs.keras")  # 32x32x3
    entry = {"file": str(tmp_path / "theirs.keras"), "framework": "keras"}
    spec = make_spec(
        data_dir, tmp_path / "run", "theirs", train={"image_size": 16}, pretrained={"theirs": entry}
    )
    with pytest.raises(PretrainedError, match=r"\(16, 16, 3\).*train.image_size"):
        import_file(spec)
    assert not spec.model_path.exists()


@pytest.mark.parametrize("model", ["cnn", "hybrid", "resnet50v2", "efficientnetb0", "densenet121"])
def test_model_trains_a_step_and_reloads(data_dir, tmp_path, model):
    spec = make_spec(data_dir, tmp_path, model, study="any", train={"limit_train": 32})
    keras_engine.train(spec)
    assert json.loads((tmp_path / "train.json").read_text())["epochs_run"] == 1
    # An eager call on the reloaded model: predict() would trace a function, slow for big nets.
    reloaded = load_model(spec.model_path)
    assert reloaded(np.zeros((2, *INPUT_SHAPE), np.float32)).shape == (2, 10)


def test_transfer_fine_tunes_after_the_frozen_phase(data_dir, tmp_path):
    spec = make_spec(
        data_dir,
        tmp_path,
        "mobilenetv2",
        study="transfer",
        train={"fine_tune_epochs": 1, "early_stopping": 2},
        transfer={"input_size": 48},
    )
    keras_engine.train(spec)
    assert len(_history(spec)) == 2  # one frozen epoch, one fine-tuning epoch
    record = json.loads((tmp_path / "train.json").read_text())
    assert record["macs"] > 0 and record["binary_mac_ratio"] == 0


def test_augmentation_trains(data_dir, tmp_path):
    """paper.yaml's binary study asks Keras for `augment: true` (options Keras lacks are refused
    by the config check: tests/test_contract.py)."""
    spec = make_spec(data_dir, tmp_path, "base", train={"augment": True})
    keras_engine.train(spec)
    assert json.loads((tmp_path / "train.json").read_text())["status"] == "ok"


def test_saved_model_is_read_once_until_the_file_changes(data_dir, tmp_path):
    spec = make_spec(data_dir, tmp_path, "base", train={"limit_train": 32})
    keras_engine.train(spec)
    kept = modelfile.load(spec.model_path)
    assert modelfile.load(spec.model_path) is kept
    stamp = spec.model_path.stat().st_mtime_ns + 1
    os.utime(spec.model_path, ns=(stamp, stamp))  # another job rewrote it: read it anew
    reread = modelfile.load(spec.model_path)
    assert reread is not kept and reread.count_params() == kept.count_params()


def test_the_train_step_is_traced_once(tmp_path):
    """compile_phase leaves the first training step no variable to create (the accuracy
    metric's and the optimiser's exist), so TensorFlow traces it once, not twice."""
    import tensorflow as tf

    from tradeoffs.engines.keras.steps import Phase, compile_phase, fit_epoch
    from tradeoffs.engines.settings import TrainSettings

    inputs = tf.keras.Input((8, 8, 1))
    x = tf.keras.layers.Conv2D(4, 3)(inputs)
    x = tf.keras.layers.BatchNormalization()(tf.keras.layers.Flatten()(x))
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(3, activation="softmax")(x))
    spec = make_spec(tmp_path, tmp_path, "cnn")
    compile_phase(model, TrainSettings.of(spec), Phase(epochs=2, lr=0.01), 2)
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 8, 8, 1), dtype=np.float32), rng.integers(0, 3, 40)
    for _ in range(2):
        loss, acc = fit_epoch(model, x, y, batch_size=16)
    assert np.isfinite(loss) and 0 <= acc <= 1
    assert model.train_function.experimental_get_tracing_count() == 1
