"""A tiny results directory for the dashboard's tests: real runs trained by the engines (one
epoch on a few digits), recorded the way the pipeline's scripts record them, plus a skipped run.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tradeoffs import engines, io, runtimes
from tradeoffs.analysis.derived import derived_metrics
from tradeoffs.config import check_config, run_study_config
from tradeoffs.data.prepared import load_meta
from tradeoffs.evaluation import classification_metrics
from tradeoffs.jobs.benchmark import measurements
from tradeoffs.records.metrics import merge_metrics, validate_metrics
from tradeoffs.records.not_run import write_not_run
from tradeoffs.records.provenance import now
from tradeoffs.records.validate import read_history
from tradeoffs.runspec import RunSpec

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schemas" / "config.schema.yaml"
TINY = {"epochs": 1, "batch_size": 32, "limit_train": 128}
BENCH = {"warmup": 1, "repeats": 3}


def tiny_config(data_dir: Path, results: Path, backends: list[str]) -> dict:
    """A config whose studies are one epoch on digits: torch `backends` and a Keras `binary`."""
    return {
        "data_dir": str(data_dir),
        "results_dir": str(results),
        "offline": True,
        "threads": 1,
        "studies": {
            "backends": {
                "datasets": ["digits"],
                "models": ["mnist_cnn"],
                "backends": backends,
                "train": {**TINY, "optimizer": "sgd", "lr": 0.01, "momentum": 0.9},
                "benchmark": BENCH,
            },
            "binary": {
                "datasets": ["digits"],
                "models": ["cnn"],
                "backends": ["keras-cpu"],
                "train": {**TINY, "optimizer": "adam", "lr": 0.001},
                "benchmark": BENCH,
            },
        },
    }


def spec_for(config: dict, study: str, model: str, backend: str) -> RunSpec:
    results = Path(config["results_dir"])
    return RunSpec(
        study=study,
        dataset="digits",
        model=model,
        act="relu",
        precision="fp32",
        backend=backend,
        seed=0,
        run_dir=results / study / "runs" / "digits" / model / "relu" / "fp32" / backend / "seed0",
        data_dir=Path(config["data_dir"]),
        study_config=run_study_config(config["studies"][study], model),
    )


def record_run(spec: RunSpec) -> None:
    """train -> evaluate -> benchmark -> metrics, as the pipeline's scripts do them."""
    engine = engines.load(spec.framework)
    engine.train(spec)
    classes = load_meta(spec.prepared_dir())["classes"]
    summary, _, _ = classification_metrics(engine.predict(spec, spec.dataset), classes)
    evals = {spec.dataset: {**summary, "status": "ok", "reason": None}}
    bench = measurements(spec, runtimes.DEFAULT)
    metrics = merge_metrics(spec, io.read_json(spec.run_dir / "train.json"), evals, bench)
    history = read_history(spec.run_dir / "history.csv")
    metrics.update(derived_metrics(metrics, evals, history, 0.95))
    validate_metrics(metrics)  # a record the dashboard reads back as valid
    io.write_json(spec.run_dir / "metrics.json", metrics)


def record_skipped(spec: RunSpec, reason: str) -> None:
    write_not_run(spec, "skipped", reason, now())
    skipped = {"status": "skipped", "reason": reason}
    train = io.read_json(spec.run_dir / "train.json")
    metrics = merge_metrics(spec, train, {spec.dataset: skipped}, skipped)
    io.write_json(spec.run_dir / "metrics.json", metrics)


def write_results(data_dir: Path, root: Path) -> Path:
    """`root/config.yaml` and `root/results/` with a torch-cpu and a keras-cpu run that finished
    and a torch-cuda run recorded as skipped; returns the config's path."""
    results = root / "results"
    raw = tiny_config(data_dir, results, ["torch-cpu", "torch-cuda"])
    config_path = root / "config.yaml"
    config_path.write_text(yaml.safe_dump(raw))
    config = check_config(raw, SCHEMA)
    record_run(spec_for(config, "backends", "mnist_cnn", "torch-cpu"))
    record_run(spec_for(config, "binary", "cnn", "keras-cpu"))
    record_skipped(spec_for(config, "backends", "mnist_cnn", "torch-cuda"), "no CUDA device")
    return config_path
