"""The epoch loop of one torch run: resume, train, evaluate, checkpoint, stop; then the outputs.

Every epoch ends with an atomic checkpoint, so a killed job rerun by Snakemake resumes after
the last finished epoch and (on CPU) ends bit-identical to an uninterrupted run.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from tradeoffs import io, records, registry
from tradeoffs.engines import torch_checkpoint, torch_modelfile, torch_runtime
from tradeoffs.engines.torch_data import DeviceData, load_device_data, steps_per_epoch
from tradeoffs.engines.torch_train import (
    TrainSettings,
    evaluate,
    make_autocast,
    make_loss,
    make_optimizer,
    make_scheduler,
    run_epoch,
)
from tradeoffs.measure.memory import ResourceMonitor
from tradeoffs.models.torch.batchnorm import recalibrate_batchnorm
from tradeoffs.runspec import RunSpec
from tradeoffs.seeding import epoch_order

EpochHook = Callable[[int], None]


@dataclass
class Progress:
    """What the loop carries from epoch to epoch (saved in every checkpoint)."""

    history: list[dict[str, Any]] = field(default_factory=list)
    best_acc: float = -math.inf
    best_epoch: int | None = None
    best_state: dict[str, torch.Tensor] | None = None
    best_loss: float = math.inf
    bad_epochs: int = 0
    early_stopped: bool = False
    failure: str | None = None

    @property
    def epochs_run(self) -> int:
        return len(self.history)

    def done(self, epochs: int) -> bool:
        return self.epochs_run >= epochs or self.early_stopped or self.failure is not None

    def update(self, row: dict[str, Any], model: nn.Module, s: TrainSettings) -> None:
        """Record an epoch: divergence, the best weights (by test accuracy), early stopping
        (by test loss)."""
        self.history.append(row)
        if not math.isfinite(row["train_loss"]):
            self.failure = f"non-finite training loss ({row['train_loss']}) at epoch {row['epoch']}"
            return
        if s.best_checkpoint and row["test_acc"] > self.best_acc:
            self.best_acc, self.best_epoch = row["test_acc"], row["epoch"]
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if row["test_loss"] < self.best_loss:
            self.best_loss, self.bad_epochs = row["test_loss"], 0
        else:
            self.bad_epochs += 1
        self.early_stopped = bool(s.early_stopping and self.bad_epochs >= s.early_stopping)


@dataclass
class Trainer:
    """The run's model, optimiser, data and settings, built the same way on a fresh start and
    on a resume (so the random draws of construction match too)."""

    spec: RunSpec
    settings: TrainSettings
    device: torch.device
    data: DeviceData
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    generator: torch.Generator  # draws augmentation crops and flips (not the sample order)

    @classmethod
    def create(cls, spec: RunSpec) -> Trainer:
        device = torch_runtime.configure(spec)
        s = TrainSettings.from_cfg(spec.train_cfg)
        channels_last = s.channels_last and device.type == "cuda"
        shape = registry.model_impl(spec.model, spec.backend).input_shape
        data = load_device_data(spec.prepared_dir(), shape, device, s.limit_train, channels_last)
        model = torch_modelfile.build(spec, len(data.classes), shape).to(device)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        optimizer = make_optimizer(model, s)
        scheduler = make_scheduler(optimizer, s, steps_per_epoch(len(data.train), s.batch_size))
        generator = torch.Generator().manual_seed(spec.seed)
        return cls(spec, s, device, data, model, optimizer, scheduler, generator)

    def epoch(self, epoch: int) -> dict[str, Any]:
        """Train one epoch (timed between device syncs), then evaluate on the test split."""
        s, device = self.settings, self.device
        softmax = self.spec.quant_cfg.get("softmax", "fp32")
        autocast = make_autocast(s, device)
        sync = torch_runtime.sync_for(device)
        torch_runtime.reset_peak_vram(device)
        with ResourceMonitor() as monitor:
            sync()
            start = time.perf_counter()
            result = run_epoch(
                self.model,
                self.optimizer,
                self.scheduler,
                make_loss(softmax, s.label_smoothing),
                self.data.train,
                s.batch_size,
                epoch_order(self.spec.seed, epoch, len(self.data.train)),
                augment=self.generator if s.augment else None,
                autocast=autocast,
                channels_last=s.channels_last and device.type == "cuda",
            )
            sync()
            seconds = time.perf_counter() - start
        test_loss, test_acc = evaluate(self.model, self.data.test, s.batch_size, softmax, autocast)
        return {
            "epoch": epoch,
            "train_loss": result.loss,
            "train_acc": result.acc,
            "test_loss": test_loss,
            "test_acc": test_acc,
            "epoch_time_s": seconds,
            "train_throughput_sps": result.samples / seconds,
            "peak_rss_mb": monitor.peak_rss_mb,
            "peak_vram_mb": torch_runtime.peak_vram_mb(device),
            "cpu_util_pct": monitor.cpu_util_pct,
        }

    def checkpoint_state(self, progress: Progress) -> dict[str, Any]:
        return {
            "config_hash": self.spec.config_hash,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": torch_checkpoint.rng_states(self.generator),
            "progress": dict(vars(progress)),
        }

    def restore(self, state: dict[str, Any]) -> Progress:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        torch_checkpoint.restore_rng_states(state["rng"], self.generator)
        progress = Progress(**state["progress"])
        if progress.best_state is not None:
            progress.best_state = {k: v.to(self.device) for k, v in progress.best_state.items()}
        return progress


def _progress_line(row: dict[str, Any], epochs: int) -> str:
    return (
        f"epoch {row['epoch']}/{epochs} train_loss {row['train_loss']:.4f} "
        f"train_acc {row['train_acc']:.4f} test_loss {row['test_loss']:.4f} "
        f"test_acc {row['test_acc']:.4f} time {row['epoch_time_s']:.2f}s "
        f"{row['train_throughput_sps']:.0f} samples/s"
    )


def _tensorboard(trainer: Trainer) -> Any:
    if not trainer.settings.tensorboard:
        return None
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir=str(trainer.spec.run_dir / "tensorboard"))


def fit(spec: RunSpec, on_epoch_end: EpochHook | None = None) -> None:
    """Train `spec`'s run, resuming from its checkpoint if one matches, and write its outputs.

    `on_epoch_end(epoch)` runs after each epoch's checkpoint is on disk (tests use it to
    simulate a kill).
    """
    started = records.now()
    trainer = Trainer.create(spec)
    s = trainer.settings
    ckpt = spec.run_dir / torch_checkpoint.FILENAME
    saved = torch_checkpoint.load(ckpt, spec.config_hash)
    progress = trainer.restore(saved) if saved else Progress()
    params = sum(p.numel() for p in trainer.model.parameters())
    print(
        f"{spec.model} ({params:,} params) on {len(trainer.data.train)} samples, device "
        f"{trainer.device}" + (f", resumed after epoch {progress.epochs_run}" if saved else ""),
        flush=True,
    )
    writer = _tensorboard(trainer)
    try:
        while not progress.done(s.epochs):
            row = trainer.epoch(progress.epochs_run + 1)
            progress.update(row, trainer.model, s)
            print(_progress_line(row, s.epochs), flush=True)
            if writer is not None:
                for key, value in row.items():
                    if key != "epoch" and value is not None:
                        writer.add_scalar(key, value, row["epoch"])
            if progress.failure is None:
                torch_checkpoint.save(ckpt, trainer.checkpoint_state(progress))
            if on_epoch_end is not None:
                on_epoch_end(row["epoch"])
    except torch.OutOfMemoryError as err:
        progress.failure = f"out of memory: {str(err).splitlines()[0]}"
    finally:
        if writer is not None:
            writer.close()
    if progress.failure:
        print(f"failed: {progress.failure}", flush=True)
    write_outputs(trainer, progress, started)
    ckpt.unlink(missing_ok=True)


def write_outputs(trainer: Trainer, progress: Progress, started: str) -> None:
    """model.pt (best weights when asked for), history.csv and train.json."""
    spec, s = trainer.spec, trainer.settings
    best_epoch = progress.epochs_run or None
    if s.best_checkpoint and progress.best_state is not None and progress.failure is None:
        trainer.model.load_state_dict(progress.best_state)
        best_epoch = progress.best_epoch
    if progress.failure is None:
        recalibrate_batchnorm(trainer.model, trainer.data.train.x, s.batch_size)
    impl = registry.model_impl(spec.model, spec.backend)
    meta = {
        "model": spec.model,
        "act": spec.act,
        "precision": spec.precision,
        "num_classes": len(trainer.data.classes),
        "classes": trainer.data.classes,
        "in_shape": list(impl.input_shape),
        "norm_mean": trainer.data.mean,
        "norm_std": trainer.data.std,
        "channels_last": s.channels_last and trainer.device.type == "cuda",
    }
    torch_modelfile.save(spec.model_path, trainer.model, meta)
    records.write_history(spec.run_dir / "history.csv", progress.history)
    record = _train_record(trainer, progress, best_epoch, started)
    io.write_json(spec.run_dir / "train.json", record)


def _train_record(
    trainer: Trainer, progress: Progress, best_epoch: int | None, started: str
) -> dict[str, Any]:
    spec, history = trainer.spec, progress.history
    times = [row["epoch_time_s"] for row in history]
    samples = sum(row["train_throughput_sps"] * row["epoch_time_s"] for row in history)
    vram = [row["peak_vram_mb"] for row in history if row["peak_vram_mb"] is not None]
    name = torch_runtime.device_name(trainer.device)
    return {
        **spec.identity(),
        "status": "failed" if progress.failure else "ok",
        "reason": progress.failure,
        "train_time_s": sum(times),
        "epoch_time_s": statistics.median(times) if times else None,
        "train_throughput_sps": samples / sum(times) if times else None,
        "epochs_run": progress.epochs_run,
        "best_epoch": best_epoch,
        "early_stopped": progress.early_stopped,
        "train_samples": len(trainer.data.train),
        "peak_rss_mb": max((row["peak_rss_mb"] for row in history), default=None),
        "peak_vram_mb": max(vram, default=None),
        "cpu_util_pct": statistics.mean(row["cpu_util_pct"] for row in history)
        if history
        else None,
        "device_name": name,
        "provenance": records.provenance(spec, started, name),
    }
