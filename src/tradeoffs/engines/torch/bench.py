"""Static costs of a torch model: FLOPs/MACs of one forward pass and its sizes."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from tradeoffs import precision
from tradeoffs.records.nulls import not_binary
from tradeoffs.runspec import RunSpec

MB = 2**20


def forward_flops(model: nn.Module, sample: torch.Tensor) -> int:
    """FLOPs of one forward pass on `sample`, as torch's FlopCounterMode counts them: matmul
    and convolution (2 per multiply-accumulate), attention kernels; elementwise ops are free.

    The counter's module tracker hooks the gradient of every module input that requires one,
    and a quantised weight's parametrization takes its Parameter as input; with no parameter
    requiring a gradient during the count there is nothing to hook."""
    requires = [p.requires_grad for p in model.parameters()]
    try:
        for p in model.parameters():
            p.requires_grad_(False)
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(sample)
    finally:
        for p, flag in zip(model.parameters(), requires, strict=True):
            p.requires_grad_(flag)
    return int(counter.get_total_flops())


def tensor_bytes(model: nn.Module) -> int:
    """Bytes the parameters and buffers hold in memory at their stored dtypes."""
    tensors = [*model.parameters(), *model.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)


def model_facts(spec: RunSpec, model: nn.Module, sample: torch.Tensor) -> dict[str, Any]:
    """train.json's facts of the model just saved: parameters, file and in-memory sizes, the
    deployed size at its format's bits, FLOPs/MACs of one forward pass on `sample`. Counted by
    the train job, which already imports what torch's FLOP counter needs (seconds a job)."""
    model.eval()
    flops = forward_flops(model, sample)
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "size_disk_mb": spec.model_path.stat().st_size / MB,
        "size_mem_mb": tensor_bytes(model) / MB,
        "est_footprint_mb": precision.footprint_mb(model, spec.precision, spec.quant_cfg),
        "flops": flops,
        "macs": flops // 2,
        **not_binary(),
    }
