"""The measurement contract (issue 17): one definition per training figure in every engine,
metrics merged without silent overwrites, nulls only with a reason, engine options checked
before any job, defaults from the checked config only, one registry of model names."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import psutil
import pytest
import yaml
from jsonschema import ValidationError
from keras_helpers import make_spec as keras_spec
from numba_fixtures import digits_spec
from prepared_digits import write_prepared_digits

from tradeoffs import io, registry, schemas
from tradeoffs.analysis.derived import derived_metrics
from tradeoffs.config import ConfigError, check_config, study_with_defaults
from tradeoffs.engines import load
from tradeoffs.identity import RunId
from tradeoffs.records.history import Epoch
from tradeoffs.records.metrics import MetricsConflictError, merge_metrics, validate_metrics
from tradeoffs.records.nulls import NO_DEVICE_MEMORY, NOT_BINARY, measured
from tradeoffs.records.provenance import now, provenance
from tradeoffs.records.train import training_keys
from tradeoffs.runspec import RunSpec

ROOT = Path(__file__).resolve().parents[1]
SMALL_TORCH = {"epochs": 2, "batch_size": 64, "lr": 0.05, "limit_train": 256}


def torch_spec(tmp: Path, **train: object) -> RunSpec:
    write_prepared_digits(tmp / "data")
    return RunSpec(
        study="contract",
        dataset="digits",
        model="mnist_cnn",
        act="relu",
        precision="fp32",
        backend="torch-cpu",
        seed=0,
        run_dir=tmp / "run",
        data_dir=tmp / "data",
        study_config=study_with_defaults({"train": {**SMALL_TORCH, **train}}),
    )


def spec_for(framework: str, tmp: Path, **train: object) -> RunSpec:
    if framework == "torch":
        return torch_spec(tmp, **train)
    if framework == "numba":
        return digits_spec(tmp, epochs=2, limit_train=256, **train)
    data = write_prepared_digits(tmp / "data", 10, 4)
    return keras_spec(data, tmp / "run", "base", train={"epochs": 2, **train})


def epoch(n: int, samples: int, seconds: float, cpu_s: float, rss: float) -> Epoch:
    return Epoch(n, samples, seconds, cpu_s, 1.0, 0.5, 1.0, 0.5, rss, None)


# --- one definition per training figure -------------------------------------------------------


def test_training_keys_follow_their_definitions():
    epochs = [epoch(1, 100, 1.0, 2.0, 300.0), epoch(2, 100, 3.0, 3.0, 200.0)]
    keys = training_keys(epochs, best_epoch=1)
    assert keys["train_time_s"] == 4.0
    assert keys["train_throughput_sps"] == 200 / 4.0  # not a median or mean of epoch rates (67)
    assert keys["epoch_time_s"] == 2.0
    assert keys["cpu_util_pct"] == 100.0 * 5.0 / 4.0
    assert keys["peak_rss_mb"] == 300.0
    assert keys["best_epoch"] == 1
    assert keys["peak_vram_mb"] is None and keys["peak_vram_mb_reason"]


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


@pytest.mark.slow
@pytest.mark.parametrize("framework", ["torch", "numba", "keras"])
def test_train_record_is_history_by_one_definition_and_excludes_evaluation(
    framework, tmp_path, monkeypatch
):
    """Throughput is samples over training seconds, and the memory window is the training
    steps only: evaluation that holds 400 MB more must not reach peak_rss_mb."""
    eval_rss: list[float] = []

    def heavy(evaluate):
        def wrapped(*args, **kwargs):
            ballast = np.ones(400 * 2**20 // 8)  # touched: resident
            eval_rss.append(_rss_mb())
            del ballast
            return evaluate(*args, **kwargs)

        return wrapped

    if framework == "torch":
        from tradeoffs.engines.torch import fit

        monkeypatch.setattr(fit, "evaluate", heavy(fit.evaluate))
    elif framework == "numba":
        from tradeoffs.engines.numba import fit

        monkeypatch.setattr(fit, "evaluate", heavy(fit.evaluate))
    else:
        import tensorflow as tf

        monkeypatch.setattr(tf.keras.Model, "evaluate", heavy(tf.keras.Model.evaluate))
    spec = spec_for(framework, tmp_path)
    load(framework).train(spec)
    train = io.read_json(spec.run_dir / "train.json")
    history = pd.read_csv(spec.run_dir / "history.csv")
    samples = (history.train_throughput_sps * history.epoch_time_s).sum()
    assert train["train_time_s"] == pytest.approx(history.epoch_time_s.sum(), rel=1e-9)
    assert train["train_throughput_sps"] == pytest.approx(samples / train["train_time_s"])
    busy = (history.cpu_util_pct * history.epoch_time_s).sum()
    assert train["cpu_util_pct"] == pytest.approx(busy / train["train_time_s"])
    assert train["best_epoch"] == train["epochs_run"] == 2  # no best_checkpoint: last epoch
    assert train["peak_rss_mb"] == history.peak_rss_mb.max()
    assert eval_rss and train["peak_rss_mb"] < min(eval_rss) - 200


@pytest.mark.slow
def test_numba_best_epoch_names_the_saved_weights(tmp_path, monkeypatch):
    """numba keeps the last epoch's weights, so best_epoch is the last epoch even when an
    earlier epoch scored better on the test set."""
    from tradeoffs.engines.numba import steps

    engine = load("numba")
    real = steps.softmax_xent
    calls = iter(range(100))

    def first_epoch_best(logits, labels):
        probs, loss = real(logits, labels)
        if next(calls) == 0:  # epoch 1: every answer right; later epochs keep theirs
            probs = np.eye(probs.shape[1])[labels]
        return probs, loss

    monkeypatch.setattr(steps, "softmax_xent", first_epoch_best)
    spec = digits_spec(tmp_path, epochs=2, limit_train=128)
    engine.train(spec)
    history = pd.read_csv(spec.run_dir / "history.csv")
    assert history.test_acc.idxmax() == 0  # epoch 1 scored best
    assert io.read_json(spec.run_dir / "train.json")["best_epoch"] == 2


def test_the_sweep_meters_energy_on_the_runs_device(tmp_path, monkeypatch):
    from tradeoffs.jobs import benchmark
    from tradeoffs.runtimes import bench
    from tradeoffs.runtimes.base import Loaded, Runtime

    data = write_prepared_digits(tmp_path / "data", 10, 4)
    spec = keras_spec(data, tmp_path / "run", "base")
    spec = RunSpec(**{**spec.__dict__, "backend": "keras-gpu"})
    eager = Runtime("eager", lambda x: x, lambda x: x, lambda x: np.eye(4)[x % 4])
    labels = np.arange(8) % 4
    fake = types.SimpleNamespace(
        benchmark=lambda spec: {"params": 1},
        loaded=lambda spec: Loaded(None, np.arange(8), labels, lambda name: eager, np.take),
    )
    monkeypatch.setattr(benchmark.engines, "load", lambda framework: fake)
    seen = {}

    def fake_sweep(make_call, settings, sync, device):
        seen["device"] = device
        return {"sweep": []}

    monkeypatch.setattr(bench, "sweep", fake_sweep)
    record = benchmark.measurements(spec, "eager")
    assert seen["device"] == "cuda" and record["params"] == 1 and record["status"] == "ok"


# --- merging records into metrics.json --------------------------------------------------------


def _spec(tmp_path: Path) -> RunSpec:
    return RunSpec(
        **RunId("s", "digits", "mnist_cnn", "relu", "fp32", "torch-cpu", 0).keys(),
        run_dir=tmp_path,
        data_dir=tmp_path,
        study_config=study_with_defaults({}),
    )


def _ok_records(spec: RunSpec) -> tuple[dict, dict, dict]:
    """A complete ok run's train, eval and bench records, as the engines write them."""
    prov = provenance(spec, now())
    train = {
        **spec.identity(),
        "status": "ok",
        "reason": None,
        **training_keys([epoch(1, 100, 1.0, 1.0, 100.0)], 1),
        "early_stopped": False,
        "train_samples": 100,
        "device_name": "cpu",
        "provenance": prov,
    }
    evals = {"digits": {"status": "ok", "reason": None, "acc": 0.9, "top5": 1.0, "loss": 0.3}}
    evals["digits"].update(ece=0.05, mean_confidence=0.9, n=10)
    evals["digits"].update(acc_ci=[0.6, 0.98], top5_ci=[0.72, 1.0], ece_ci=[0.01, 0.2])
    bench = {"status": "ok", "reason": None, "params": 10, "size_disk_mb": 1.0}
    bench.update(size_mem_mb=1.0, est_footprint_mb=1.0, flops=20, macs=10)
    for key in ("binary_params", "fp_params", "binary_mac_ratio"):
        bench.update(measured(key, None, NOT_BINARY))
    for key in ("p50", "p95", "p99", "mean", "std"):
        bench[f"latency_ms_{key}"] = 1.0
    bench.update(batch_latency_ms_p50=2.0, batch_latency_ms_p95=2.0, infer_throughput_sps=5.0)
    bench.update(bench_batch_size=8, bench_warmup=1, bench_repeats=3, bench_peak_rss_mb=9.0)
    bench.update(bench_cpu_util_pct=99.0, bench_device_name="cpu", energy_measured_source="none")
    bench.update(measured("bench_peak_vram_mb", None, NO_DEVICE_MEMORY))
    bench.update(measured("energy_measured_uj_per_inf", None, "no RAPL counter"))
    return train, evals, bench


def _merged(spec: RunSpec, train: dict, evals: dict, bench: dict) -> dict:
    metrics = merge_metrics(spec, train, evals, bench)
    history = [{"test_acc": 0.5, "epoch_time_s": 1.0}, {"test_acc": 0.9, "epoch_time_s": 1.0}]
    metrics.update(derived_metrics(metrics, evals, history, 0.95))
    return metrics


def test_complete_ok_run_is_valid(tmp_path):
    spec = _spec(tmp_path)
    validate_metrics(_merged(spec, *_ok_records(spec)))


def test_the_shipped_schemas_are_valid_schemas():
    """validate_metrics (each metrics job) does not check the schema against its metaschema;
    this test does, for every schema the package ships."""
    for schema in (schemas.metrics_schema(), schemas.history_schema(), schemas.config_schema()):
        jsonschema.validators.validator_for(schema).check_schema(schema)


def test_validate_metrics_raises_the_most_relevant_error(tmp_path):
    """As `jsonschema.validate` does: the best match of the record's errors."""
    spec = _spec(tmp_path)
    metrics = _merged(spec, *_ok_records(spec))
    metrics["test_acc"] = "high"
    del metrics["model"]
    expected = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schemas.metrics_schema()).iter_errors(metrics)
    )
    with pytest.raises(ValidationError) as raised:
        validate_metrics(metrics)
    assert raised.value.message == expected.message


def test_a_key_two_records_set_is_refused_naming_both(tmp_path):
    spec = _spec(tmp_path)
    train, evals, bench = _ok_records(spec)
    bench["peak_rss_mb"] = 1.0  # the benchmark's peak under the training peak's name
    with pytest.raises(MetricsConflictError) as error:
        merge_metrics(spec, train, evals, bench)
    message = str(error.value)
    assert "'peak_rss_mb'" in message and "train.json" in message and "bench/eager.json" in message


def test_a_missing_key_of_an_ok_run_fails_the_schema(tmp_path):
    spec = _spec(tmp_path)
    train, evals, bench = _ok_records(spec)
    del bench["latency_ms_p95"]
    with pytest.raises(ValidationError, match="latency_ms_p95"):
        validate_metrics(_merged(spec, train, evals, bench))


def test_a_null_needs_a_reason_in_an_ok_run(tmp_path):
    spec = _spec(tmp_path)
    train, evals, bench = _ok_records(spec)
    del bench["energy_measured_uj_per_inf_reason"]
    with pytest.raises(ValidationError, match="energy_measured_uj_per_inf_reason"):
        validate_metrics(_merged(spec, train, evals, bench))


def test_a_skipped_run_is_valid_with_nulls_explained_by_its_reason(tmp_path):
    spec = _spec(tmp_path)
    train = {**spec.identity(), "status": "skipped", "reason": "no CUDA"}
    train["provenance"] = provenance(spec, now())
    bench = {"status": "skipped", "reason": "no CUDA"}
    evals = {"digits": {"status": "skipped", "reason": "no CUDA"}}
    metrics = _merged(spec, train, evals, bench)
    validate_metrics(metrics)
    assert metrics["test_acc"] is None and metrics["reason"] == "no CUDA"


def test_architecture_doc_lists_each_metric_once_with_a_unit():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    doc = doc.split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]  # other records' tables aside
    rows = re.findall(r"^\| `([a-z0-9_]+)` \| [^|]+ \| ([^|]+) \|$", doc, flags=re.M)
    keys = [key for key, _ in rows]
    assert sorted(keys) == sorted(schemas.metrics_schema()["required"])
    assert len(keys) == len(set(keys))


# --- engine options and defaults --------------------------------------------------------------


def _study(backend: str, **train: object) -> dict:
    study = {"datasets": ["digits"], "models": ["mnist_cnn"], "backends": [backend]}
    return {"studies": {"mine": {**study, "train": train}}}


def test_an_option_the_backend_ignores_is_refused_before_any_job():
    with pytest.raises(ConfigError) as error:
        check_config(_study("numba-cpu", optimizer="adam"))
    message = str(error.value)
    assert "studies.mine.train.optimizer" in message and "numba-cpu" in message
    assert "'adam'" in message and "supports: sgd" in message


@pytest.mark.parametrize(
    ("backend", "key", "value"),
    [
        ("numba-cpu", "schedule", "cosine"),
        ("numba-cpu", "augment", True),
        ("numba-cpu", "label_smoothing", 0.1),
        ("torch-cpu", "fine_tune_epochs", 2),
    ],
)
def test_every_ignored_option_is_refused(backend, key, value):
    with pytest.raises(ConfigError, match=rf"train\.{key}.*{backend}"):
        check_config(_study(backend, **{key: value}))


def test_keras_options_are_checked_against_the_keras_engine():
    config = _study("keras-cpu", label_smoothing=0.1)
    config["studies"]["mine"]["models"] = ["base"]
    with pytest.raises(ConfigError, match="label_smoothing.*keras-cpu"):
        check_config(config)
    config["studies"]["mine"]["train"] = {"augment": True, "schedule": "cosine"}
    check_config(config)


PRESETS = [
    "config.yaml",
    *sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("configs/**/*.yaml")),
]


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_passes_the_config_check(preset):
    path = ROOT / preset
    check_config(yaml.safe_load(path.read_text()), basedir=ROOT, config_dir=path.parent)


def test_keras_augmentation_crops_and_flips_reproducibly():
    from tradeoffs.engines.keras.data import epoch_rng, random_crop_flip

    x = np.arange(2 * 8 * 8 * 3, dtype=np.uint8).reshape(2, 8, 8, 3)
    a = random_crop_flip(x, epoch_rng(0, 1))
    assert a.shape == x.shape and a.dtype == np.uint8
    np.testing.assert_array_equal(a, random_crop_flip(x, epoch_rng(0, 1)))
    assert not np.array_equal(a, random_crop_flip(x, epoch_rng(0, 2)))
    same = random_crop_flip(x, epoch_rng(0, 1), pad=0)  # no padding: only flips
    for image, out in zip(x, same, strict=True):
        assert np.array_equal(out, image) or np.array_equal(out, image[:, ::-1])


FALLBACK = re.compile(r"""\.get\(\s*["'][a-z_]+["']\s*,\s*[^)\s]""")


def test_engines_and_models_hold_no_default_literals():
    """Defaults come from the config schema alone: no `.get(key, literal)` in engines/models."""
    src = ROOT / "src" / "tradeoffs"
    offenders = [
        f"{path.relative_to(src)}:{n}: {line.strip()}"
        for folder in ("engines", "models")
        for path in (src / folder).rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if FALLBACK.search(line) and "get_device_details" not in line
    ]
    assert not offenders, "\n".join(offenders)


def test_library_finds_its_schemas_outside_a_checkout(tmp_path):
    """The package alone (no repository around it) checks a config and builds train settings."""
    shutil.copytree(ROOT / "src" / "tradeoffs", tmp_path / "tradeoffs")
    code = (
        "from tradeoffs.config import check_config, study_with_defaults\n"
        "from tradeoffs.engines.settings import TrainSettings\n"
        "c = {'studies': {'s': {'datasets': ['digits'], 'models': ['cnn'],"
        " 'backends': ['torch-cpu']}}}\n"
        "checked = check_config(c)\n"
        "print(TrainSettings.from_cfg(checked['studies']['s']['train']).batch_size)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "128"


def test_runspec_without_a_section_gets_the_schema_defaults(tmp_path):
    spec = _spec(tmp_path)
    assert spec.train_cfg["batch_size"] == 128 and spec.bench_cfg["repeats"] == 50
    again = RunSpec(**{**spec.__dict__, "study_config": copy.deepcopy(spec.study_config)})
    assert again.config_hash == spec.config_hash


# --- one registry of model names --------------------------------------------------------------


def test_every_framework_builds_exactly_the_registry_models():
    from tradeoffs.models import keras as keras_models
    from tradeoffs.models import numba as numba_models
    from tradeoffs.models import torch as torch_models

    built = {
        "torch": set(torch_models.BUILDERS),
        "keras": set(keras_models.BUILDERS) | set(keras_models.transfer.APPLICATIONS),
        "numba": set(numba_models.MODELS),
    }
    for framework in registry.FRAMEWORKS:
        named = {m for m, impls in registry.MODELS.items() if framework in impls}
        assert built[framework] == named, framework
