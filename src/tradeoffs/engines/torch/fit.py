"""The torch training loop, top to bottom in one function: set up, resume, then per epoch the
sample order, the batches (augmented on the device), the timed training steps, evaluation, the
epoch's record, early stopping and best weights, the checkpoint; then the outputs.

Every epoch ends with an atomic checkpoint, so a killed job rerun by Snakemake resumes after
the last finished epoch and (on CPU) ends bit-identical to an uninterrupted run.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from tradeoffs.data.validation import split_validation
from tradeoffs.engines import EpochHook
from tradeoffs.engines.selection import Selection
from tradeoffs.engines.settings import TrainSettings
from tradeoffs.engines.torch import checkpoint, modelfile
from tradeoffs.engines.torch.bench import model_facts
from tradeoffs.engines.torch.data import (
    batch_indices,
    input_shape,
    load_device_data,
    random_crop_flip,
    steps_per_epoch,
)
from tradeoffs.engines.torch.device import (
    configure,
    device_name,
    peak_vram_mb,
    reset_peak_vram,
    sync_for,
)
from tradeoffs.engines.torch.steps import (
    evaluate,
    make_autocast,
    make_loss,
    make_optimizer,
    make_scheduler,
    train_step,
)
from tradeoffs.measure.window import training_window
from tradeoffs.models.torch.batchnorm import recalibrate_batchnorm
from tradeoffs.records.history import Epoch, epochs_as_json, history_row, progress_line
from tradeoffs.records.provenance import now
from tradeoffs.records.train import write_outputs
from tradeoffs.runspec import RunSpec
from tradeoffs.seeding import epoch_order


def train(spec: RunSpec, on_epoch_end: EpochHook | None = None) -> None:
    """Train `spec`'s run, resuming from its checkpoint if one matches, and write model.pt,
    history.csv and train.json.

    `on_epoch_end(epoch)` runs after each epoch's checkpoint is on disk (tests use it to
    simulate a kill).
    """
    started = now()
    s = TrainSettings.of(spec)
    softmax = spec.quant_cfg["softmax"]

    # Model, optimiser and data: built the same way on a fresh start and on a resume, so the
    # random draws of construction match too.
    device = configure(spec, training=True)
    channels_last = s.channels_last and device.type == "cuda"
    shape = input_shape(spec, s.image_size)
    data = load_device_data(
        spec.prepared_dir(),
        shape,
        device,
        s.limit_train,
        lambda labels: split_validation(labels, s.held_out_fraction, spec.seed),
        channels_last,
    )
    model = modelfile.build(spec, len(data.classes), shape).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, s)
    scheduler = make_scheduler(optimizer, s, steps_per_epoch(len(data.train), s.batch_size))
    generator = torch.Generator().manual_seed(spec.seed)  # augmentation crops and flips only
    loss_fn = make_loss(softmax, s.label_smoothing)
    autocast = make_autocast(s, device)
    sync = sync_for(device)

    # What the loop carries from epoch to epoch (all of it in every checkpoint).
    epochs: list[Epoch] = []
    chosen: Selection[dict[str, torch.Tensor]] = Selection.of(s)
    failure = None

    ckpt = spec.run_dir / checkpoint.FILENAME
    saved = checkpoint.load(ckpt, spec.config_hash)
    if saved:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        checkpoint.restore_rng_states(saved["rng"], generator)
        epochs = [Epoch.from_row(row) for row in saved["epochs"]]
        best = saved["best_state"]
        best = None if best is None else {k: v.to(device) for k, v in best.items()}
        chosen = Selection.of(s, saved["selection"], best)
        print(f"resumed after epoch {len(epochs)}", flush=True)
    params = sum(p.numel() for p in model.parameters())
    print(f"{spec.model} ({params:,} params) on {len(data.train)} samples, {device}", flush=True)
    writer = _tensorboard(spec) if s.tensorboard else None

    try:
        while len(epochs) < s.epochs and not chosen.stopped:
            epoch = len(epochs) + 1
            order = epoch_order(spec.seed, epoch, len(data.train))
            model.train()
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), dtype=torch.long, device=device)
            seen = 0
            reset_peak_vram(device)
            with training_window(sync) as window:
                for idx in batch_indices(order, s.batch_size, device):
                    x, y = data.train.x[idx], data.train.y[idx]
                    if s.augment:
                        x = random_crop_flip(x, generator)
                        if channels_last:
                            x = x.contiguous(memory_format=torch.channels_last)
                    loss, right = train_step(model, optimizer, loss_fn, x, y, autocast)
                    scheduler.step()
                    loss_sum += loss * y.shape[0]
                    correct += right
                    seen += y.shape[0]
                train_loss, train_acc = loss_sum.item() / seen, correct.item() / seen
            val_loss, val_acc = (
                evaluate(model, data.val, s.batch_size, softmax, autocast)
                if len(data.val)
                else (None, None)
            )
            # the test set's learning curve: recorded, never chooses anything
            test_loss, test_acc = evaluate(model, data.test, s.batch_size, softmax, autocast)
            e = window.epoch(
                epoch,
                seen,
                peak_vram_mb(device),
                train=(train_loss, train_acc),
                val=(val_loss, val_acc),
                test=(test_loss, test_acc),
            )
            epochs.append(e)
            print(progress_line(e, s.epochs), flush=True)
            if writer is not None:
                for key, value in history_row(e).items():
                    if key != "epoch" and value is not None:
                        writer.add_scalar(key, value, epoch)
            if not math.isfinite(train_loss):
                failure = f"non-finite training loss ({train_loss}) at epoch {epoch}"
                break
            chosen.update(epoch, val_loss, val_acc, lambda: _state_copy(model))
            state: dict[str, Any] = {
                "config_hash": spec.config_hash,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "rng": checkpoint.rng_states(generator),
                "epochs": epochs_as_json(epochs),
                "selection": chosen.as_dict(),
                "best_state": chosen.best_weights,
            }
            checkpoint.save(ckpt, state)
            if on_epoch_end is not None:
                on_epoch_end(epoch)
    except torch.OutOfMemoryError as err:
        failure = f"out of memory: {str(err).splitlines()[0]}"
    finally:
        if writer is not None:
            writer.close()
    if failure:
        print(f"failed: {failure}", flush=True)

    best = chosen.kept(failed=failure is not None)
    if best is not None:
        model.load_state_dict(best)
    if failure is None:  # few steps leave batch norm's running statistics stale
        recalibrate_batchnorm(model, data.train.x, s.batch_size)
    modelfile.save(spec.model_path, model, modelfile.meta_of(spec, data, shape, channels_last))
    write_outputs(
        spec,
        epochs,
        best_epoch=chosen.saved_epoch(len(epochs), failed=failure is not None),
        failure=failure,
        device_name=device_name(device),
        started=started,
        validation=data.validation.provenance(s.validation_fraction),
        early_stopped=chosen.stopped,
        train_samples=len(data.train),
        **model_facts(spec, model, data.test.x[:1]),
    )
    ckpt.unlink(missing_ok=True)


def _state_copy(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _tensorboard(spec: RunSpec) -> Any:
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir=str(spec.run_dir / "tensorboard"))
