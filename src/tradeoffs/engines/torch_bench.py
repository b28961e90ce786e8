"""Static costs of a torch model: FLOPs/MACs of one forward pass and its size in memory."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


@torch.no_grad()
def forward_flops(model: nn.Module, sample: torch.Tensor) -> int:
    """FLOPs of one forward pass on `sample`, as torch's FlopCounterMode counts them: matmul
    and convolution (2 per multiply-accumulate), attention kernels; elementwise ops are free.

    no_grad, not inference_mode: the counter's module tracker hooks the inputs of every module,
    and a parametrized (quantised) weight's parametrization takes a Parameter as its input,
    which inference mode cannot hook."""
    with FlopCounterMode(display=False) as counter:
        model(sample)
    return int(counter.get_total_flops())


def tensor_bytes(model: nn.Module) -> int:
    """Bytes the parameters and buffers hold in memory at their stored dtypes."""
    tensors = [*model.parameters(), *model.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)
