"""Number formats for torch models: the seed's learnable FP2-FP8 and the OCP FP8/FP6/FP4 formats.

Interface the torch engine uses (implemented by the precision work, issue 4):
- quantize_model(model, precision, cfg) -> nn.Module
- log_softmax(logits, precision) -> log-probabilities computed at `precision`
- footprint_mb(model, precision, cfg) -> stored size of the weights at `precision`
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


def quantize_model(model: nn.Module, precision: str, cfg: dict[str, Any]) -> nn.Module:
    if precision != "fp32":
        raise NotImplementedError(f"precision {precision} is not implemented yet")
    return model


def log_softmax(logits: torch.Tensor, precision: str) -> torch.Tensor:
    if precision != "fp32":
        raise NotImplementedError(f"softmax precision {precision} is not implemented yet")
    return F.log_softmax(logits, dim=-1)


def footprint_mb(model: nn.Module, precision: str, cfg: dict[str, Any]) -> float:
    if precision != "fp32":
        raise NotImplementedError(f"precision {precision} is not implemented yet")
    return sum(p.numel() for p in model.parameters()) * 4 / 2**20
