"""Straight-through estimator: forward the quantised value, backward the identity."""

from __future__ import annotations

import torch


def ste(x: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """`q` in the forward pass, gradient 1 to `x` in the backward pass.

    `x - x.detach()` is exactly zero, so the forward value is `q` bit for bit (the usual
    `x + (q - x).detach()` rounds); any graph `q` carries (learnable values) is kept.
    """
    return q + (x - x.detach())
