"""Hand-made run records (metrics.json, history.csv, eval CSVs) for the analysis tests, and the
tests of reading them back."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from tradeoffs import schemas
from tradeoffs.analysis.load import flatten, read_metrics
from tradeoffs.identity import RunId as Run
from tradeoffs.records.metrics import RECORD_LAYOUT
from tradeoffs.registry import BACKENDS, PRECISION_BITS

CLASSES = [str(i) for i in range(10)]


def write_run(root: Path, run: Run, status: str = "ok", **values: Any) -> Path:
    """A run folder as the pipeline leaves it; returns its metrics.json.

    `values` override the metrics; `epochs` sets the history length (0: header only).
    """
    folder = Path(run.folder(str(root)))
    (folder / "eval").mkdir(parents=True, exist_ok=True)
    ok = status == "ok"
    acc = values.pop("test_acc", 0.9) if ok else None
    epochs = values.pop("epochs", 3) if ok else 0
    metrics: dict[str, Any] = {
        "study": run.study,
        "dataset": run.dataset,
        "model": run.model,
        "act": run.act,
        "precision": run.precision,
        "backend": run.backend,
        "seed": run.seed,
        "framework": BACKENDS[run.backend].framework,
        "status": status,
        "reason": None if ok else f"{status}: test reason",
        "device_name": "cpu",
        "test_acc": acc,
        "test_top5": 1.0 if ok else None,
        "test_loss": 0.3 if ok else None,
        "params": 100_000 if ok else None,
        "macs": 2e6 if ok else None,
        "latency_ms_p50": 1.0 if ok else None,
        "latency_ms_p95": 1.5 if ok else None,
        "infer_throughput_sps": 5000.0 if ok else None,
        "size_mem_mb": 0.4 if ok else None,
        "size_disk_mb": 0.45 if ok else None,
        "est_footprint_mb": 0.4 * PRECISION_BITS[run.precision] / 32 if ok else None,
        "train_time_s": 10.0 if ok else None,
        "epoch_time_s": 3.0 if ok else None,
        "train_throughput_sps": 500.0 if ok else None,
        "peak_rss_mb": 300.0 if ok else None,
        "peak_vram_mb": None,
        "energy_proxy": 1.5 if ok else None,
        "eval": {run.dataset: {"acc": acc, "n": 100}} if ok else {},
        "provenance": {
            "host": "test",
            "versions": {"python": "3.11"},
            "git_commit": None,
            "cpu": "test cpu",
            "config_hash": "0" * 16,
            "started": "2026-01-01T00:00:00Z",
            "finished": "2026-01-01T00:01:00Z",
        },
    }
    # a given provenance is completed with the defaults' keys it leaves out
    values["provenance"] = {**metrics["provenance"], **values.get("provenance", {})}
    metrics.update(values)
    for key in schemas.metrics_schema()["required"]:  # the rest of a complete record
        if metrics.setdefault(key, None) is None and ok:
            metrics.setdefault(f"{key}_reason", "not measured in this test")
    metrics["record_layout"] = RECORD_LAYOUT
    (folder / "metrics.json").write_text(json.dumps(metrics))
    history = pd.DataFrame(
        [
            {
                "epoch": e,
                "train_loss": 2.0 / e,
                "train_acc": acc * (1 - 0.3 / e),
                "test_loss": 2.2 / e,
                "test_acc": acc * (1 - 0.4 / e),
                "epoch_time_s": 3.0,
            }
            for e in range(1, epochs + 1)
        ],
        columns=["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "epoch_time_s"],
    )
    history.to_csv(folder / "history.csv", index=False)
    correct = round(10 * (acc or 0))
    matrix = [[_cell(r, c, correct) for c in range(10)] for r in range(10)]
    confusion = pd.DataFrame(matrix if ok else [], columns=CLASSES, dtype=float).round()
    confusion.index = pd.Index(CLASSES if ok else [], name="true")
    confusion.to_csv(folder / "eval" / f"{run.dataset}_confusion.csv")
    report = pd.DataFrame(
        [{"class": c, "precision": acc, "recall": acc, "f1": acc, "support": 10} for c in CLASSES]
        if ok
        else [],
        columns=["class", "precision", "recall", "f1", "support"],
    )
    report.to_csv(folder / "eval" / f"{run.dataset}_report.csv", index=False)
    return folder / "metrics.json"


def _cell(true: int, predicted: int, correct: int) -> int:
    """Ten test images per class, the misses predicted as the next class."""
    if true == predicted:
        return correct
    return 10 - correct if predicted == (true + 1) % 10 else 0


def default_results(root: Path) -> dict[str, list[Path]]:
    """Every study of config.yaml with plausible numbers, two seeds where a spread shows;
    absent backends skipped, one failed run. Returns metrics.json paths per study."""
    studies: dict[str, list[Path]] = {s: [] for s in ("backends", "architectures", "precision")}
    studies |= {"binary": [], "transfer": []}
    for i, backend in enumerate(
        ["torch-cpu", "torch-cuda", "torch-mps", "numba-cpu", "numba-cuda"]
    ):
        run = Run("backends", "digits", "mnist_cnn", "relu", "fp32", backend, 0)
        status = "skipped" if backend in ("torch-mps", "numba-cuda") else "ok"
        gpu = "cuda" in backend
        studies["backends"].append(
            write_run(
                root,
                run,
                status,
                test_acc=0.95 - 0.01 * i,
                epochs=5,
                epoch_time_s=0.4 if gpu else 2.0 + i,
                peak_vram_mb=120.0 if gpu else None,
                train_throughput_sps=9000.0 if gpu else 700.0 + 100 * i,
            )
        )
    for model, acc, params, lat in (
        ("custom_cnn", 0.93, 2_332_106, 0.9),
        ("resnet18", 0.88, 11_181_642, 2.1),
    ):
        for seed in (0, 1):
            run = Run("architectures", "digits", model, "relu", "fp32", "torch-cpu", seed)
            studies["architectures"].append(
                write_run(
                    root,
                    run,
                    test_acc=acc + 0.01 * seed,
                    params=params,
                    size_mem_mb=params * 4 / 2**20,
                    latency_ms_p50=lat,
                    infer_throughput_sps=1000 / lat * 20,
                )
            )
    models = ["cnn", "gcn", "mlpmixer", "mobilenetv2", "resnet18", "vit"]
    for m, model in enumerate(models):
        for precision in ("fp32", "e4m3", "fp4", "fp2"):
            bits = PRECISION_BITS[precision]
            run = Run("precision", "digits", model, "relu", precision, "torch-cpu", 0)
            failed = model == "vit" and precision == "fp2"
            studies["precision"].append(
                write_run(
                    root,
                    run,
                    "failed" if failed else "ok",
                    test_acc=0.95 - 0.05 * m - 0.3 * math.exp(-bits / 3),
                    train_time_s=20.0 + 5 * m + bits / 4,
                    latency_ms_p50=0.5 + m,
                )
            )
    for model, acc, ratio, energy in (
        ("cnn", 0.92, 0.0, 40.0),
        ("bnn", 0.75, 0.95, 3.0),
        ("hybrid", 0.85, 0.7, 12.0),
    ):
        for backend in ("keras-cpu", "keras-gpu"):
            run = Run("binary", "digits", model, "relu", "fp32", backend, 0)
            status = "skipped" if backend == "keras-gpu" else "ok"
            studies["binary"].append(
                write_run(
                    root, run, status, test_acc=acc, binary_mac_ratio=ratio, energy_proxy=energy
                )
            )
    for m, model in enumerate(
        ["mobilenetv2", "resnet50v2", "efficientnetb0", "densenet121", "base"]
    ):
        run = Run("transfer", "digits", model, "relu", "fp32", "keras-cpu", 0)
        studies["transfer"].append(
            write_run(
                root,
                run,
                test_acc=0.9 - 0.04 * m,
                ood_dataset="synthetic",
                ood_acc=0.7 - 0.05 * m,
                latency_ms_p50=2.0 + 3 * m,
                size_mem_mb=10.0 + 20 * m,
                size_disk_mb=12.0 + 22 * m,
            )
        )
    return studies


def test_flatten_dots_nested_keys() -> None:
    flat = flatten({"a": 1, "eval": {"digits": {"acc": 0.5}}, "provenance": {"host": "h"}})
    assert flat == {"a": 1, "eval.digits.acc": 0.5, "provenance.host": "h"}


def test_read_metrics_lists_every_run_in_identity_order(tmp_path: Path) -> None:
    paths = [
        write_run(tmp_path, Run("s", "digits", "cnn", "relu", "fp32", "torch-cpu", 1)),
        write_run(tmp_path, Run("s", "digits", "cnn", "relu", "fp32", "torch-cpu", 0), "failed"),
    ]
    runs = read_metrics(paths)
    assert list(runs["seed"]) == [0, 1]
    assert list(runs["status"]) == ["failed", "ok"]
    assert list(runs.columns[:10]) == [
        "study",
        "dataset",
        "model",
        "act",
        "precision",
        "backend",
        "seed",
        "host",
        "status",
        "reason",
    ]
    assert runs.loc[1, "eval.digits.acc"] == 0.9
    assert runs.loc[0, "path"] == str(paths[1].parent)
