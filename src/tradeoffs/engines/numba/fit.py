"""The numba training loop, top to bottom in one function: set up, resume, then per epoch the
sample order, the timed epoch of training steps (the model's own kernels), evaluation, the
epoch's record, the tracker (best weights, early stopping), the checkpoint; then the outputs.

A run sees what the torch engine's run of the same spec sees (docs/architecture.md, "Comparable
backends"): torch's initial weights (`layout.initial_params`); inputs standardised with the
(limited) training images' mean and std (kept in model.npz as `norm_mean`/`norm_std`); epoch e in
the order `seeding.epoch_order(seed, e, n)`, cut to `seeding.usable_samples` (the last batch may
be short, but never a single sample).

Every epoch ends with a checkpoint (`checkpoint.py`), so a killed job resumes after its last
finished epoch and ends bit-identical to an uninterrupted run.
"""

from __future__ import annotations

import math

import numpy as np

from tradeoffs.data.validation import split_validation
from tradeoffs.engines import EpochHook
from tradeoffs.engines.numba import checkpoint, modelfile
from tradeoffs.engines.numba.bench import model_facts
from tradeoffs.engines.numba.data import load_data
from tradeoffs.engines.numba.device import configure, device_name, peak_vram_mb, sync_for
from tradeoffs.engines.numba.steps import evaluate, warm_up
from tradeoffs.engines.selection import Selection
from tradeoffs.engines.settings import TrainSettings
from tradeoffs.measure.window import training_window
from tradeoffs.models.numba import layout
from tradeoffs.records.history import Epoch, progress_line
from tradeoffs.records.provenance import now
from tradeoffs.records.train import write_outputs
from tradeoffs.runspec import RunSpec
from tradeoffs.seeding import epoch_order, usable_samples


def train(spec: RunSpec, on_epoch_end: EpochHook | None = None) -> None:
    """Train and write model.npz, history.csv and train.json; one progress line per epoch.
    `on_epoch_end(epoch)` runs after the epoch's checkpoint is on disk (tests simulate a kill).
    """
    started = now()
    s = TrainSettings.of(spec)
    configure(spec)

    # Data, model and its resident arrays, built the same way on a fresh start and a resume.
    data = load_data(spec)
    cut_x, cut_y = data.train_x[: s.limit_train], data.train_y[: s.limit_train]
    held = split_validation(cut_y, s.held_out_fraction, spec.seed)
    train_x, train_y, val_y = cut_x[held.train], cut_y[held.train], cut_y[held.val]
    norm = layout.Norm.of(train_x)
    theta = layout.initial_params(spec.seed, data.num_classes)
    model = modelfile.build(spec, theta, data.num_classes, norm, s.batch_size)
    xs, ys = model.resident(train_x), model.resident(train_y)
    test_xs = model.resident(data.test_x)
    val_xs = model.resident(cut_x[held.val]) if len(val_y) else None
    used = usable_samples(len(train_y), s.batch_size)
    compile_s = warm_up(spec, theta, data.num_classes, norm, s.batch_size, xs, ys, test_xs)
    print(f"kernels compiled (or loaded from numba's cache) in {compile_s:.1f}s", flush=True)
    sync = sync_for(spec)

    # What the loop carries from epoch to epoch (all of it in every checkpoint).
    epochs: list[Epoch] = []
    chosen: Selection[np.ndarray] = Selection.of(s)
    failure = None

    ckpt = spec.run_dir / checkpoint.FILENAME
    saved = checkpoint.load(ckpt, spec.config_hash)
    if saved is not None:
        model = modelfile.build(spec, saved.theta, data.num_classes, norm, s.batch_size)
        model.velocity[:] = saved.velocity
        epochs = saved.epochs
        chosen = Selection.of(s, saved.selection, saved.best_theta)
        print(f"resumed after epoch {len(epochs)}", flush=True)

    while len(epochs) < s.epochs and not chosen.stopped:
        epoch = len(epochs) + 1
        order = epoch_order(spec.seed, epoch, len(train_y))[:used]
        with training_window(sync) as window:
            loss, acc = model.train_epoch(xs, ys, order, s.batch_size, s.lr, s.momentum)
        val_loss, val_acc = evaluate(model, val_xs, val_y) if len(val_y) else (None, None)
        # the test set's learning curve: recorded, never chooses anything
        test_loss, test_acc = evaluate(model, test_xs, data.test_y)
        e = window.epoch(
            epoch,
            used,
            peak_vram_mb(spec),
            train=(loss, acc),
            val=(val_loss, val_acc),
            test=(test_loss, test_acc),
        )
        epochs.append(e)
        print(progress_line(e, s.epochs), flush=True)
        if not math.isfinite(loss):
            failure = f"training diverged: loss {loss} in epoch {epoch}"
            break
        chosen.update(epoch, val_loss, val_acc, model.params)
        checkpoint.save(ckpt, spec.config_hash, model, epochs, chosen)
        if on_epoch_end is not None:
            on_epoch_end(epoch)

    failed = failure is not None
    best = chosen.kept(failed)
    modelfile.save(spec, model.params() if best is None else best, data.num_classes, norm)
    write_outputs(
        spec,
        epochs,
        best_epoch=chosen.saved_epoch(len(epochs), failed),
        failure=failure,
        device_name=device_name(spec),
        started=started,
        validation=held.provenance(s.validation_fraction),
        early_stopped=chosen.stopped,
        train_samples=len(train_y),
        **model_facts(spec, data.num_classes),
    )
    ckpt.unlink(missing_ok=True)
