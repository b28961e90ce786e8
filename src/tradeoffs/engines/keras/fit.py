"""The Keras training loop, top to bottom in one function: set up, resume, then per phase (seed
003: frozen base, then fine-tuning at a tenth of the rate) and per epoch the sample order, the
augmented epoch, the timed `model.fit` of one epoch, evaluation, the epoch's record, early
stopping and best weights, the checkpoint; then the outputs.

Every epoch ends with a checkpoint (`keras_checkpoint/`: a TensorFlow checkpoint of the model,
its optimiser and its layers' random generators, the best weights so far, and `state.json`
naming them, written last), so a killed job resumes after the last finished epoch and ends
bit-identical on CPU.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tradeoffs import io
from tradeoffs.data.prepared import adapt_images, load_prepared
from tradeoffs.data.validation import split_validation
from tradeoffs.engines import EpochHook
from tradeoffs.engines.keras import runtime
from tradeoffs.engines.keras.augment import epoch_rng, random_crop_flip
from tradeoffs.engines.selection import Selection
from tradeoffs.measure.timing import no_sync
from tradeoffs.measure.window import training_window
from tradeoffs.models.keras import INPUT_SHAPE, build_model
from tradeoffs.models.keras.batchnorm import recalibrate_batchnorm
from tradeoffs.models.keras.profile import model_facts
from tradeoffs.models.keras.transfer import APPLICATIONS, start_fine_tuning
from tradeoffs.records.history import Epoch, epochs_as_json, history_row, progress_line
from tradeoffs.records.provenance import now
from tradeoffs.records.train import write_outputs
from tradeoffs.runspec import RunSpec
from tradeoffs.seeding import epoch_order, usable_samples

FINE_TUNE_LR_FACTOR = 0.1  # seed 003: fine-tune the unfrozen layers at a tenth of the lr
CHECKPOINT_DIR = "keras_checkpoint"


def _optimizer(cfg: dict[str, Any], lr: float, steps: int) -> tf.keras.optimizers.Optimizer:
    rate: Any = lr
    if cfg["schedule"] == "cosine":
        rate = tf.keras.optimizers.schedules.CosineDecay(lr, decay_steps=max(steps, 1))
    decay = cfg["weight_decay"] or None
    if cfg["optimizer"] == "sgd":
        return tf.keras.optimizers.SGD(rate, momentum=cfg["momentum"], weight_decay=decay)
    if cfg["optimizer"] == "adamw":
        return tf.keras.optimizers.AdamW(rate, weight_decay=cfg["weight_decay"])
    return tf.keras.optimizers.Adam(rate, weight_decay=decay)


def train(spec: RunSpec, on_epoch_end: EpochHook | None = None) -> None:
    """Train, keep the best (or last) weights, write model.keras, history.csv and train.json.
    A non-finite loss or running out of memory records the run as `failed`."""
    started = now()
    runtime.configure(spec)
    cfg = spec.train_cfg
    data = load_prepared(spec.prepared_dir())
    cut_y = data.train_y[: cfg["limit_train"]]
    held = split_validation(cut_y, cfg, spec.seed)
    cut_x = data.train_x[: cfg["limit_train"]]
    train_x, train_y = adapt_images(cut_x[held.train], INPUT_SHAPE), cut_y[held.train]  # uint8
    val_x = adapt_images(cut_x[held.val], INPUT_SHAPE).astype(np.float32)
    val_y = cut_y[held.val]
    test_x = adapt_images(data.test_x, INPUT_SHAPE).astype(np.float32)
    used = usable_samples(len(train_y), cfg["batch_size"])
    steps_per_epoch = math.ceil(used / cfg["batch_size"])
    phases = [(cfg["epochs"], cfg["lr"])]
    if spec.model in APPLICATIONS and cfg["fine_tune_epochs"]:
        phases.append((cfg["fine_tune_epochs"], cfg["lr"] * FINE_TUNE_LR_FACTOR))

    # What the loop carries from epoch to epoch (all of it in every checkpoint).
    epochs: list[Epoch] = []
    chosen, best_weights, stopped_phases, failure = Selection(), None, [], None
    phase_epochs = [0] * len(phases)

    ckpt_dir = spec.run_dir / CHECKPOINT_DIR
    saved = _load_state(ckpt_dir, spec.config_hash)
    if saved:
        epochs = [Epoch.from_row(row) for row in saved["epochs"]]
        chosen, stopped_phases = Selection.from_dict(saved["selection"]), saved["stopped_phases"]
        phase_epochs = saved["phase_epochs"]
        if saved["best_file"]:
            with np.load(ckpt_dir / saved["best_file"], allow_pickle=False) as npz:
                best_weights = [npz[f"w{i}"] for i in range(len(npz.files))]
        print(f"resumed after epoch {len(epochs)}", flush=True)
    writer = (
        tf.summary.create_file_writer(str(spec.run_dir / "tensorboard"))
        if cfg["tensorboard"]
        else None
    )

    with runtime.device_scope(spec):
        model = build_model(
            spec.model,
            data.num_classes,
            spec.transfer_cfg,
            spec.model_options,
            declared=spec.declared_model,
        )
        print(f"{spec.model} ({model.count_params():,} params) on {len(train_y)} samples")
        restored = False
        try:
            for phase, (count, lr) in enumerate(phases):
                if phase == 1:
                    start_fine_tuning(model, spec.transfer_cfg)
                if phase_epochs[phase] >= count or phase in stopped_phases:
                    continue
                if phase and not phase_epochs[phase]:  # a phase has its own patience
                    chosen.restart_patience()
                optimizer = _optimizer(cfg, lr, count * steps_per_epoch)
                model.compile(optimizer, "sparse_categorical_crossentropy", ["accuracy"])
                tracked = tf.train.Checkpoint(
                    model=model, optimizer=optimizer, **_random_generators(model)
                )
                if saved and not restored:  # the optimiser too when resuming inside its phase
                    # Create what is built lazily (optimiser slots, the layers' random
                    # generators) so that reading assigns it now.
                    optimizer.build(model.trainable_variables)
                    model(test_x[:1], training=True)
                    target = tracked if phase_epochs[phase] else tf.train.Checkpoint(model=model)
                    target.read(
                        str(ckpt_dir / saved["tf_prefix"])
                    ).assert_existing_objects_matched()
                    restored = True
                while phase_epochs[phase] < count:
                    epoch = len(epochs) + 1
                    order = epoch_order(spec.seed, epoch, len(train_y))[:used]
                    x = train_x[order]
                    if cfg["augment"]:
                        x = random_crop_flip(x, epoch_rng(spec.seed, epoch))
                    x = x.astype(np.float32)
                    runtime.reset_peak_vram(spec)
                    with training_window(no_sync) as window:
                        logs = model.fit(
                            x,
                            train_y[order],
                            batch_size=cfg["batch_size"],
                            epochs=1,
                            shuffle=False,
                            verbose=0,
                        ).history
                    val_loss, val_acc = None, None
                    if len(val_y):  # held out only when something chooses on it
                        val_loss, val_acc = model.evaluate(
                            val_x, val_y, batch_size=cfg["batch_size"], verbose=0
                        )
                    # the test set's learning curve: recorded, never chooses anything
                    test_loss, test_acc = model.evaluate(
                        test_x, data.test_y, batch_size=cfg["batch_size"], verbose=0
                    )
                    e = Epoch(
                        epoch=epoch,
                        samples=used,
                        train_s=window.seconds,
                        cpu_s=window.cpu_s,
                        train_loss=float(logs["loss"][0]),
                        train_acc=float(logs["accuracy"][0]),
                        test_loss=float(test_loss),
                        test_acc=float(test_acc),
                        peak_rss_mb=window.peak_rss_mb,
                        peak_vram_mb=runtime.peak_vram_mb(spec),
                        val_loss=None if val_loss is None else float(val_loss),
                        val_acc=None if val_acc is None else float(val_acc),
                    )
                    epochs.append(e)
                    phase_epochs[phase] += 1
                    print(progress_line(e, sum(c for c, _ in phases)), flush=True)
                    if writer is not None:
                        with writer.as_default():
                            for key, value in history_row(e).items():
                                if key != "epoch" and value is not None:
                                    tf.summary.scalar(key, value, step=epoch)
                    if not math.isfinite(e.train_loss):
                        failure = f"training diverged: non-finite loss in epoch {epoch}"
                        break
                    best_file = None
                    if e.val_acc is not None:
                        better = chosen.update(epoch, e.val_loss, e.val_acc)
                        if better and cfg["best_checkpoint"]:
                            best_weights = model.get_weights()
                            best_file = f"best{epoch}.npz"
                        if chosen.should_stop(cfg["early_stopping"]):
                            stopped_phases.append(phase)
                    state = {
                        "config_hash": spec.config_hash,
                        "epochs": epochs_as_json(epochs),
                        "selection": chosen.as_dict(),
                        "stopped_phases": stopped_phases,
                        "phase_epochs": phase_epochs,
                    }
                    _save_state(ckpt_dir, tracked, state, best_weights, best_file)
                    if on_epoch_end is not None:
                        on_epoch_end(epoch)
                    if phase in stopped_phases:
                        break
                if failure:
                    break
        except tf.errors.ResourceExhaustedError as error:
            failure = f"out of memory: {error.message.splitlines()[0]}"
        if saved and not restored:  # killed after the last epoch's checkpoint
            tf.train.Checkpoint(model=model).read(
                str(ckpt_dir / saved["tf_prefix"])
            ).expect_partial()
    if writer is not None:
        writer.close()
    if failure:
        print(f"failed: {failure}", flush=True)

    # The saved weights are the best epoch's when asked for, else the last epoch's: best_epoch
    # names whichever was saved.
    saved_epoch = len(epochs) or None
    if cfg["best_checkpoint"] and best_weights is not None and failure is None:
        model.set_weights(best_weights)
        saved_epoch = chosen.best_epoch
    if failure is None:  # few steps leave batch norm's moving statistics stale
        with runtime.device_scope(spec):
            recalibrate_batchnorm(model, train_x.astype(np.float32))
    runtime.save_model(model, spec.model_path)
    write_outputs(
        spec,
        epochs,
        best_epoch=saved_epoch,
        failure=failure,
        device_name=runtime.device_name(spec),
        started=started,
        validation=held.provenance(cfg["validation_fraction"]),
        early_stopped=bool(stopped_phases),
        train_samples=len(train_y),
        **model_facts(runtime.saved_model(spec.model_path), spec.model_path),
    )
    shutil.rmtree(ckpt_dir, ignore_errors=True)


def _random_generators(model: tf.keras.Model) -> dict[str, tf.random.Generator]:
    """The layers' random generators (dropout), which a model checkpoint leaves out: a layer
    without weights is not saved."""
    found = (getattr(layer, "_random_generator", None) for layer in model.submodules)
    generators = [g._generator for g in found if getattr(g, "_generator", None) is not None]
    return {f"rng{i}": generator for i, generator in enumerate(generators)}


def _save_state(
    folder: Path,
    tracked: tf.train.Checkpoint,
    state: dict[str, Any],
    best_weights: list[np.ndarray] | None,
    best_file: str | None,
) -> None:
    """The epoch's TensorFlow checkpoint and (when new) best weights under fresh names, then
    state.json naming them (atomically), then the files it no longer names."""
    epoch = len(state["epochs"])
    folder.mkdir(parents=True, exist_ok=True)
    tracked.write(str(folder / f"epoch{epoch}"))
    previous = _load_state(folder, state["config_hash"]) or {}
    if best_file is not None and best_weights is not None:
        with io.atomic_path(folder / best_file) as tmp, tmp.open("wb") as handle:
            np.savez(handle, **{f"w{i}": w for i, w in enumerate(best_weights)})
    else:
        best_file = previous.get("best_file")
    io.write_json(
        folder / "state.json", {**state, "tf_prefix": f"epoch{epoch}", "best_file": best_file}
    )
    keep = {"state.json", best_file}
    for path in folder.iterdir():
        if path.name not in keep and not path.name.startswith(f"epoch{epoch}."):
            path.unlink()


def _load_state(folder: Path, config_hash: str) -> dict[str, Any] | None:
    """state.json if it was written under the same study config, else None."""
    path = folder / "state.json"
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text())
    except ValueError:
        return None
    return state if state.get("config_hash") == config_hash else None
