"""The Keras training loop, top to bottom in one function: set up, resume, then per phase (seed
003: frozen base, then fine-tuning at a tenth of the rate) one loop over its epochs: train,
validate, record, select (the tracker: best weights, early stopping), checkpoint; then the
outputs.

Every epoch ends with a checkpoint (`checkpoint.py`), so a killed job resumes after the last
finished epoch and ends bit-identical on CPU.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from tradeoffs.engines import EpochHook
from tradeoffs.engines.keras import checkpoint, modelfile
from tradeoffs.engines.keras.bench import model_facts
from tradeoffs.engines.keras.data import epoch_images, load_train_data, run_shape
from tradeoffs.engines.keras.device import (
    configure,
    device_name,
    device_scope,
    peak_vram_mb,
    reset_peak_vram,
)
from tradeoffs.engines.keras.steps import Phase, compile_phase, evaluate, fit_epoch, phases
from tradeoffs.engines.selection import Selection
from tradeoffs.engines.settings import TrainSettings
from tradeoffs.measure.timing import no_sync
from tradeoffs.measure.window import training_window
from tradeoffs.models.keras import build_model
from tradeoffs.models.keras.batchnorm import recalibrate_batchnorm
from tradeoffs.models.keras.transfer import start_fine_tuning
from tradeoffs.records.history import Epoch, history_row, progress_line
from tradeoffs.records.provenance import now
from tradeoffs.records.train import write_outputs
from tradeoffs.runspec import RunSpec
from tradeoffs.seeding import usable_samples


def train(spec: RunSpec, on_epoch_end: EpochHook | None = None) -> None:
    """Train, keep the best (or last) weights, write model.keras, history.csv and train.json.
    A non-finite loss or running out of memory records the run as `failed`.
    `on_epoch_end(epoch)` runs after each epoch's checkpoint is on disk (tests simulate a kill).
    """
    started = now()
    s = TrainSettings.of(spec)
    configure(spec)
    data = load_train_data(spec, s)
    used = usable_samples(len(data.train_y), s.batch_size)
    steps_per_epoch = math.ceil(used / s.batch_size)
    plan = phases(spec.model, s)
    total_epochs = sum(phase.epochs for phase in plan)

    # What the loop carries from epoch to epoch (all of it in every checkpoint).
    run = checkpoint.Progress.start(len(plan))
    chosen: Selection[list[np.ndarray]] = Selection.of(s)
    failure = None

    folder = spec.run_dir / checkpoint.DIRNAME
    saved = checkpoint.load(folder, spec.config_hash)
    if saved:
        run = saved.progress
        chosen = Selection.of(s, saved.selection, saved.best_weights)
        print(f"resumed after epoch {len(run.epochs)}", flush=True)
    unread = _Resume(folder, saved, data.test_x[:1]) if saved else None
    writer = _tensorboard(spec) if s.tensorboard else None

    with device_scope(spec):
        model = build_model(
            spec.model,
            data.num_classes,
            spec.transfer_cfg,
            spec.model_options,
            declared=spec.declared_model,
            shape=run_shape(spec),
        )
        print(f"{spec.model} ({model.count_params():,} params) on {len(data.train_y)} samples")
        phase = None  # the phase the model is compiled for
        try:
            while (index := run.next_phase(plan)) is not None:
                if index != phase:
                    phase = index
                    tracked = _enter_phase(
                        model, spec, s, (index, plan[index], steps_per_epoch), run, chosen, unread
                    )
                    unread = None  # read back into the first phase a resumed run enters

                epoch = len(run.epochs) + 1
                x, y = epoch_images(data, spec.seed, epoch, used, s.augment)
                reset_peak_vram(spec)
                with training_window(no_sync) as window:
                    train_loss, train_acc = fit_epoch(model, x, y, s.batch_size)
                val_loss, val_acc = (
                    evaluate(model, data.val_x, data.val_y, s.batch_size)
                    if len(data.val_y)  # held out only when something chooses on it
                    else (None, None)
                )
                # the test set's learning curve: recorded, never chooses anything
                test_loss, test_acc = evaluate(model, data.test_x, data.test_y, s.batch_size)
                e = window.epoch(
                    epoch,
                    used,
                    peak_vram_mb(spec),
                    train=(train_loss, train_acc),
                    val=(val_loss, val_acc),
                    test=(test_loss, test_acc),
                )
                run.epochs.append(e)
                run.phase_epochs[index] += 1
                print(progress_line(e, total_epochs), flush=True)
                _log_scalars(writer, e)
                if not math.isfinite(train_loss):
                    failure = f"training diverged: non-finite loss in epoch {epoch}"
                    break
                new_best = chosen.update(epoch, val_loss, val_acc, model.get_weights)
                if chosen.stopped:  # this phase ends; the next has a patience of its own
                    run.stopped_phases.append(index)
                checkpoint.save(folder, tracked, spec.config_hash, run, chosen, new_best)
                if on_epoch_end is not None:
                    on_epoch_end(epoch)
        except tf.errors.ResourceExhaustedError as error:
            failure = f"out of memory: {error.message.splitlines()[0]}"
        if unread is not None:  # nothing was left to run: killed after the last checkpoint
            if failure is None and len(plan) > 1:
                start_fine_tuning(model, spec.transfer_cfg)  # as the last phase left it
            checkpoint.restore_weights(folder, saved, model)
    if writer is not None:
        writer.close()
    if failure:
        print(f"failed: {failure}", flush=True)

    failed = failure is not None
    best = chosen.kept(failed)
    if best is not None:
        model.set_weights(best)
    if not failed:  # few steps leave batch norm's moving statistics stale
        with device_scope(spec):
            recalibrate_batchnorm(model, data.train_x.astype(np.float32))
    modelfile.save(spec.model_path, model)
    write_outputs(
        spec,
        run.epochs,
        best_epoch=chosen.saved_epoch(len(run.epochs), failed),
        failure=failure,
        device_name=device_name(spec),
        started=started,
        validation=data.held.provenance(s.validation_fraction),
        early_stopped=bool(run.stopped_phases),
        train_samples=len(data.train_y),
        **model_facts(modelfile.load(spec.model_path), spec.model_path),
    )
    shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class _Resume:
    """A checkpoint still to be read back into the model, and what reading it needs."""

    folder: Path
    saved: checkpoint.Saved
    sample: np.ndarray  # one input, to build the optimiser's slots before restoring them


def _enter_phase(
    model: tf.keras.Model,
    spec: RunSpec,
    s: TrainSettings,
    entered: tuple[int, Phase, int],
    run: checkpoint.Progress,
    chosen: Selection,
    unread: _Resume | None,
) -> tf.train.Checkpoint:
    """Prepare the phase `entered` (its index, plan and steps per epoch): fine-tuning unfreezes
    the top layers, a phase has a patience of its own; compile it, and read back `unread`'s
    checkpoint when a resumed run enters here. Returns what the phase's checkpoints hold."""
    index, phase, steps_per_epoch = entered
    begun = bool(run.phase_epochs[index])
    if index == 1:
        start_fine_tuning(model, spec.transfer_cfg)
    if index and not begun:
        chosen.restart_patience()
    tracked = _compiled(model, s, phase, steps_per_epoch)
    if unread is None:
        return tracked
    checkpoint.restore(unread.folder, unread.saved, tracked, unread.sample, begun)
    if not begun:  # a phase starts with a fresh optimiser
        tracked = _compiled(model, s, phase, steps_per_epoch)
    return tracked


def _compiled(
    model: tf.keras.Model, s: TrainSettings, phase: Phase, steps_per_epoch: int
) -> tf.train.Checkpoint:
    """`model` compiled for `phase` with a fresh optimiser; what the phase's checkpoints hold."""
    return checkpoint.tracked(model, compile_phase(model, s, phase, steps_per_epoch))


def _tensorboard(spec: RunSpec) -> tf.summary.SummaryWriter:
    return tf.summary.create_file_writer(str(spec.run_dir / "tensorboard"))


def _log_scalars(writer: tf.summary.SummaryWriter | None, e: Epoch) -> None:
    """The epoch's history row as TensorBoard scalars (when `tensorboard` is on)."""
    if writer is None:
        return
    with writer.as_default():
        for key, value in history_row(e).items():
            if key != "epoch" and value is not None:
                tf.summary.scalar(key, value, step=e.epoch)
