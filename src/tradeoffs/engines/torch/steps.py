"""The training parts the torch epoch loop (`fit.train`) calls: optimiser, schedule, loss, one
train step, evaluation.

`train_step` is the unit `benchmarks/harness_overhead.py` times against a bare PyTorch loop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import parametrize

from tradeoffs import precision
from tradeoffs.engines.settings import TrainSettings
from tradeoffs.engines.torch.data import Split

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Autocast = Callable[[], contextlib.AbstractContextManager]


def make_optimizer(model: nn.Module, s: TrainSettings) -> torch.optim.Optimizer:
    params = model.parameters()
    if s.optimizer == "sgd":
        return torch.optim.SGD(params, lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay)
    if s.optimizer == "adam":
        return torch.optim.Adam(params, lr=s.lr, weight_decay=s.weight_decay)
    if s.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=s.lr, weight_decay=s.weight_decay)
    raise ValueError(f"unknown optimizer {s.optimizer!r}")


def make_scheduler(
    optimizer: torch.optim.Optimizer, s: TrainSettings, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LRScheduler:
    """A schedule stepped after every batch. `step` divides the rate by 10 after a third and
    after two thirds of training."""
    total = max(1, s.epochs * steps_per_epoch)
    sched = torch.optim.lr_scheduler
    if s.schedule == "constant":
        return sched.ConstantLR(optimizer, factor=1.0, total_iters=0)
    if s.schedule == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=total)
    if s.schedule == "step":
        return sched.StepLR(optimizer, step_size=max(1, total // 3), gamma=0.1)
    if s.schedule == "onecycle":
        return sched.OneCycleLR(optimizer, max_lr=s.lr, total_steps=total)
    raise ValueError(f"unknown schedule {s.schedule!r}")


def make_loss(softmax_precision: str, label_smoothing: float = 0.0) -> LossFn:
    """NLL of the log-softmax computed at `softmax_precision`, with optional label smoothing
    (the same mixture F.cross_entropy's `label_smoothing` uses)."""

    def loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        logp = precision.log_softmax(logits.float(), softmax_precision)
        nll = F.nll_loss(logp, y)
        if label_smoothing:
            nll = (1.0 - label_smoothing) * nll - label_smoothing * logp.mean(dim=-1).mean()
        return nll

    return loss


def make_autocast(s: TrainSettings, device: torch.device) -> Autocast:
    """bf16 autocast on CUDA when asked; elsewhere a no-op context."""
    if s.autocast == "bf16" and device.type == "cuda":
        return lambda: torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: LossFn,
    x: torch.Tensor,
    y: torch.Tensor,
    autocast: Autocast = contextlib.nullcontext,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimiser step; returns the batch loss and the count of correct predictions as
    device tensors, so the loop never waits for the device."""
    optimizer.zero_grad(set_to_none=True)
    with autocast():
        logits = model(x)
    loss = loss_fn(logits, y)
    loss.backward()
    optimizer.step()
    return loss.detach(), (logits.detach().argmax(dim=1) == y).sum()


@torch.inference_mode()
def logits_of(
    model: nn.Module,
    x: torch.Tensor,
    batch_size: int,
    autocast: Autocast = contextlib.nullcontext,
) -> torch.Tensor:
    """The model's float32 logits for `x`, in eval mode, batch by batch."""
    model.eval()
    outs = []
    for start in range(0, x.shape[0], batch_size):
        with autocast():
            outs.append(model(x[start : start + batch_size]).float())
    return torch.cat(outs)


def evaluate(
    model: nn.Module,
    data: Split,
    batch_size: int,
    softmax_precision: str,
    autocast: Autocast = contextlib.nullcontext,
) -> tuple[float, float]:
    """Mean NLL (no label smoothing) and accuracy on `data`. Quantised weights are computed
    once for the whole pass (`parametrize.cached`), not once per batch."""
    with parametrize.cached():
        logits = logits_of(model, data.x, batch_size, autocast)
    logp = precision.log_softmax(logits, softmax_precision)
    loss = F.nll_loss(logp, data.y).item()
    acc = (logits.argmax(dim=1) == data.y).float().mean().item()
    return loss, acc
