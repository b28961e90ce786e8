"""Keras backends (`keras-cpu`, `keras-gpu`): seed 000's binary study and seed 003's transfer
learning. train -> model.keras, history.csv, train.json; predict; benchmark -> bench.json keys."""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # larq runs on Keras 2 only; before TF loads

import math
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tradeoffs import io, records
from tradeoffs.data.prepared import adapt_images, load_prepared
from tradeoffs.engines import keras_runtime as runtime
from tradeoffs.engines.keras_history import EpochRecorder
from tradeoffs.evaluation import Predictions
from tradeoffs.measure.inference import benchmark_inference
from tradeoffs.models.keras import INPUT_SHAPE, build_model, load_model
from tradeoffs.models.keras.batchnorm import recalibrate_batchnorm
from tradeoffs.models.keras.profile import profile
from tradeoffs.models.keras.transfer import APPLICATIONS, start_fine_tuning
from tradeoffs.runspec import RunSpec

FINE_TUNE_LR_FACTOR = 0.1  # seed 003: fine-tune the unfrozen layers at a tenth of the lr
UNSUPPORTED = {  # train options the Keras engine does not implement, with the value it needs
    "augment": False,
    "label_smoothing": 0.0,
    "autocast": "none",
}
SCHEDULES = ("constant", "cosine")


def _images(x: np.ndarray) -> np.ndarray:
    return adapt_images(x, INPUT_SHAPE).astype(np.float32)


def _train_data(spec: RunSpec) -> tuple[np.ndarray, ...]:
    data = load_prepared(spec.prepared_dir())
    limit = spec.train_cfg.get("limit_train")
    train_x, train_y = data.train_x[:limit], data.train_y[:limit]
    return _images(train_x), train_y, _images(data.test_x), data.test_y, data.num_classes


def _check_train_cfg(cfg: dict[str, Any]) -> None:
    for key, needed in UNSUPPORTED.items():
        if cfg.get(key, needed) != needed:
            raise ValueError(f"train.{key}: {cfg[key]!r} is not implemented on Keras backends")
    if cfg.get("schedule", "constant") not in SCHEDULES:
        raise ValueError(f"train.schedule: {cfg['schedule']!r}; Keras backends offer {SCHEDULES}")


def _optimizer(cfg: dict[str, Any], lr: float, steps: int) -> tf.keras.optimizers.Optimizer:
    if cfg.get("schedule", "constant") == "cosine":
        lr = tf.keras.optimizers.schedules.CosineDecay(lr, decay_steps=max(steps, 1))
    name = cfg.get("optimizer", "sgd")
    if name == "sgd":
        return tf.keras.optimizers.SGD(lr, momentum=cfg.get("momentum", 0.9))
    if name == "adamw":
        return tf.keras.optimizers.AdamW(lr, weight_decay=cfg.get("weight_decay", 0.0))
    return tf.keras.optimizers.Adam(lr)


class _Trainer:
    """model.fit in phases (seed 003: frozen base, then fine-tuning) sharing one history, one
    early-stopping patience per phase and one best checkpoint (by test accuracy) across both."""

    def __init__(self, spec: RunSpec, model: tf.keras.Model, data: tuple, ckpt_dir: Path):
        self.spec, self.model, self.cfg = spec, model, spec.train_cfg
        self.train_x, self.train_y, self.test_x, self.test_y, _ = data
        self.recorder = EpochRecorder(len(self.train_x), lambda: runtime.peak_vram_mb(spec))
        self.ckpt = ckpt_dir / "best"  # TF checkpoint: matched by object, not by weight order
        self.best_acc: float | None = None

    @property
    def epochs_run(self) -> int:
        return len(self.recorder.rows)

    def _callbacks(self) -> list[tf.keras.callbacks.Callback]:
        callbacks = [self.recorder, tf.keras.callbacks.TerminateOnNaN()]
        if self.cfg.get("early_stopping"):
            patience = self.cfg["early_stopping"]
            callbacks.append(tf.keras.callbacks.EarlyStopping("val_loss", patience=patience))
        if self.cfg.get("tensorboard"):
            callbacks.append(tf.keras.callbacks.TensorBoard(self.spec.run_dir / "tensorboard"))
        return callbacks

    def fit(self, epochs: int, lr: float) -> None:
        """Compile at `lr` and train `epochs` more epochs, then restore the best checkpoint."""
        batch = self.cfg.get("batch_size", 128)
        steps = epochs * math.ceil(len(self.train_x) / batch)
        self.model.compile(
            optimizer=_optimizer(self.cfg, lr, steps),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        callbacks = self._callbacks()
        checkpoint = tf.keras.callbacks.ModelCheckpoint(
            str(self.ckpt),
            monitor="val_accuracy",
            mode="max",
            save_best_only=True,
            save_weights_only=True,
            initial_value_threshold=self.best_acc,  # the best of the earlier phase to beat
        )
        if self.cfg.get("best_checkpoint"):
            callbacks.append(checkpoint)
        self.model.fit(
            self.train_x,
            self.train_y,
            batch_size=batch,
            epochs=self.epochs_run + epochs,
            initial_epoch=self.epochs_run,
            validation_data=(self.test_x, self.test_y),
            callbacks=callbacks,
            verbose=0,
        )
        if self.cfg.get("best_checkpoint"):
            self.best_acc = checkpoint.best
            self.model.load_weights(self.ckpt).expect_partial()

    def diverged(self) -> bool:
        return any(not math.isfinite(row["train_loss"]) for row in self.recorder.rows)

    def best_epoch(self) -> int:
        """The epoch whose weights are kept: the best test accuracy's, or the last."""
        rows = self.recorder.rows
        if self.best_acc is None:
            return rows[-1]["epoch"]
        return next(row["epoch"] for row in rows if row["test_acc"] == self.best_acc)


def _train_record(spec: RunSpec, trainer: _Trainer, train_s: float, started: str) -> dict:
    rows = trainer.recorder.rows
    vram = [row["peak_vram_mb"] for row in rows if row["peak_vram_mb"] is not None]
    return {
        **spec.identity(),
        "status": "ok",
        "reason": None,
        "train_time_s": train_s,
        "epoch_time_s": float(np.median([row["epoch_time_s"] for row in rows])),
        "train_throughput_sps": float(np.median([row["train_throughput_sps"] for row in rows])),
        "epochs_run": trainer.epochs_run,
        "best_epoch": trainer.best_epoch(),
        "peak_rss_mb": max(row["peak_rss_mb"] for row in rows),
        "peak_vram_mb": max(vram) if vram else None,
        "cpu_util_pct": float(np.mean([row["cpu_util_pct"] for row in rows])),
        "device_name": runtime.device_name(spec),
        "provenance": records.provenance(spec, started, runtime.device_name(spec)),
    }


def train(spec: RunSpec) -> None:
    """Train, keep the best (or last) weights, write model.keras, history.csv and train.json.
    A non-finite loss or running out of memory records the run as `failed`."""
    started = records.now()
    runtime.configure(spec)
    cfg = spec.train_cfg
    _check_train_cfg(cfg)
    data = _train_data(spec)
    lr = cfg.get("lr", 0.01)
    spec.run_dir.mkdir(parents=True, exist_ok=True)
    with runtime.device_scope(spec), tempfile.TemporaryDirectory(dir=spec.run_dir) as ckpt:
        model = build_model(spec.model, data[-1], spec.transfer_cfg, spec.model_options)
        trainer = _Trainer(spec, model, data, Path(ckpt))
        start = time.perf_counter()
        try:
            trainer.fit(cfg.get("epochs", 10), lr)
            fine_tune = cfg.get("fine_tune_epochs", 0)
            if spec.model in APPLICATIONS and fine_tune and not trainer.diverged():
                start_fine_tuning(model, spec.transfer_cfg)
                trainer.fit(fine_tune, lr * FINE_TUNE_LR_FACTOR)
        except tf.errors.ResourceExhaustedError as error:
            reason = f"out of memory: {error.message.splitlines()[0]}"
            records.write_not_run(spec, "failed", reason, started)
            return
        train_s = time.perf_counter() - start
    if trainer.diverged():
        reason = f"training diverged: non-finite loss by epoch {trainer.epochs_run}"
        records.write_not_run(spec, "failed", reason, started)
        return
    with runtime.device_scope(spec):
        recalibrate_batchnorm(model, data[0])
    runtime.save_model(model, spec.model_path)
    records.write_history(spec.run_dir / "history.csv", trainer.recorder.rows)
    io.write_json(spec.run_dir / "train.json", _train_record(spec, trainer, train_s, started))


def _cross_entropy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean sparse categorical cross-entropy, clipped as Keras clips (epsilon 1e-7)."""
    picked = probs[np.arange(labels.size), labels]
    return float(-np.log(np.clip(picked, 1e-7, 1.0)).mean())


def predict(spec: RunSpec, dataset: str) -> Predictions:
    """Probabilities on `dataset`'s test split, adapted to the model's input."""
    runtime.configure(spec)
    data = load_prepared(spec.prepared_dir(dataset))
    with runtime.device_scope(spec):
        model = load_model(spec.model_path)
        batch = spec.train_cfg.get("batch_size", 128)
        probs = model.predict(_images(data.test_x), batch_size=batch, verbose=0)
    labels = data.test_y.astype(np.int64)
    return Predictions(probs=probs, labels=labels, loss=_cross_entropy(probs, labels))


def benchmark(spec: RunSpec) -> dict[str, Any]:
    """Sizes, larq's parameter/MAC profile and the shared inference benchmark, timed through a
    compiled inference function (not model.predict, whose per-call set-up would dominate)."""
    runtime.configure(spec)
    cfg = spec.bench_cfg
    batch_size = cfg.get("batch_size") or spec.train_cfg.get("batch_size", 128)
    test_x = _images(load_prepared(spec.prepared_dir()).test_x)
    batch = np.resize(test_x, (batch_size, *test_x.shape[1:]))  # repeats images if too few
    with runtime.device_scope(spec):
        model = load_model(spec.model_path)
        infer = tf.function(model, jit_compile=False)
        timings = benchmark_inference(
            lambda x: infer(x).numpy(),  # .numpy() waits for the device
            tf.constant(test_x[:1]),
            tf.constant(batch),
            batch_size,
            warmup=cfg.get("warmup", 10),
            repeats=cfg.get("repeats", 50),
        )
    weight_bytes = sum(int(np.prod(w.shape)) * w.dtype.size for w in model.weights)
    return {
        **profile(model),
        **timings,
        "size_disk_mb": spec.model_path.stat().st_size / 2**20,
        "size_mem_mb": weight_bytes / 2**20,
        "bench_peak_vram_mb": runtime.peak_vram_mb(spec),
        "device_name": runtime.device_name(spec),
    }
