"""Static costs of a torch model: FLOPs/MACs of one forward pass and its size in memory."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


@torch.inference_mode()
def forward_flops(model: nn.Module, sample: torch.Tensor) -> int:
    """FLOPs of one forward pass on `sample`, as torch's FlopCounterMode counts them: matmul
    and convolution (2 per multiply-accumulate), attention kernels; elementwise ops are free."""
    with FlopCounterMode(display=False) as counter:
        model(sample)
    return int(counter.get_total_flops())


def tensor_bytes(model: nn.Module) -> int:
    """Bytes the parameters and buffers hold in memory at their stored dtypes."""
    tensors = [*model.parameters(), *model.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)
