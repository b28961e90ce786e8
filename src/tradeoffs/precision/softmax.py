"""Softmax at a given precision (seed 002's precision-specific softmax), for the loss.

Method: the logits, shifted so that their maximum is 0 (softmax does not change), are rounded
onto the precision's grid at unit scale, the values a low-precision softmax unit reads; the
exponentials, their sum and the logarithm are then computed in fp32, as such units accumulate
in a wider format. Quantising the probabilities themselves would round most of them to 0 at
4 bits and below, making the loss infinite. Saturation bounds the logit gaps (E2M1: 6, so no
class gets less than e^-6 of the top class's weight); the gradient passes straight through.

Grids: an OCP format's own; a learnable fpN's fixed initial float grid (float_grid), since a
function has no trained values (fp4: E2M1's, fp2: {-2, 0}).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from tradeoffs.precision.learnable import LEARNABLE_BITS, float_grid, nearest
from tradeoffs.precision.ocp import FORMATS, round_to_grid
from tradeoffs.precision.ste import ste


def _on_grid(z: torch.Tensor, precision: str) -> torch.Tensor:
    if precision in FORMATS:
        return round_to_grid(z, FORMATS[precision])
    if precision in LEARNABLE_BITS:
        grid = float_grid(LEARNABLE_BITS[precision]).to(z.device, z.dtype)
        return grid[nearest(z, grid)]
    raise ValueError(f"no softmax at precision {precision!r}")


def log_softmax(logits: torch.Tensor, precision: str, dim: int = -1) -> torch.Tensor:
    """log softmax(logits) along `dim` at `precision` (see module doc), differentiable."""
    if precision == "fp32":
        return F.log_softmax(logits, dim=dim)
    # The detached shift leaves the gradient exact: softmax is shift-invariant.
    z = logits - logits.detach().amax(dim=dim, keepdim=True)
    return F.log_softmax(ste(z, _on_grid(z.detach(), precision)), dim=dim)
