"""The seed's learnable formats FP2-FP8: 2^bits trainable quantisation values per quantiser.

Initialisation: a float-like grid. The non-negative levels are every code of an unsigned
minifloat with bits-1 bits (fp8: E4M3, fp6: E3M2, fp4: E2M1, fp3: E1M1, fp2: E1M0; no codes
reserved for inf/NaN) plus one step beyond its largest value; the negative levels mirror all
but that extra one. Zero is exact (ReLU outputs, padding), the spacing is logarithmic like a
float, and the one code a sign-magnitude format spends on -0 becomes an extra positive level
for the positively skewed outputs of relu/gelu/swish/softplus/sigmoid (the seed's FP2
example [-1, 0, 1, 4] is skewed the same way). fp2 = [-0.5, 0, 0.5, 1],
fp3 = [-0.75, -0.5, ..., 0.75, 1] (uniform), fp4 = E2M1 and 8 over 8.

The quantiser works in units of the tensor's amax (a per-tensor scale recomputed every forward,
not trained), so one initialisation (largest level 1) fits weights and activations of any
range, and the values learn the shape of the distribution.

Computation (docs/architecture.md, Precision): one autograd function rounds and saves only the
level of each element and the scale; on the kernels' path the amax, the codebook, the search
and the gather are one numba call (`search.round_to_values`), else the steps one by one
(`search.round_to_levels`); the backward passes the gradient straight to x and sums it per
level, deterministically (`search.sums_to_values`, `search.sum_per_level`). Outputs and the
gradient to x equal the straight-through formula
`ste(x, values[nearest(x / scale, values)] * scale)` bit for bit; the gradient to the values
too on the torch path, within a stated bound of it on the kernels' (float64 partial sums; at
more than one thread that formula's index_put_ accumulation is itself nondeterministic);
compiled and exported graphs (torch.compile, torch.export) trace that formula.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from tradeoffs.precision.search import (
    round_to_levels,
    round_to_values,
    sum_per_level,
    sums_to_values,
)
from tradeoffs.precision.ste import ste

# bits -> (exponent bits, mantissa bits) of the unsigned minifloat giving the magnitudes
MAGNITUDE_FORMATS = {8: (4, 3), 6: (3, 2), 4: (2, 1), 3: (1, 1), 2: (1, 0)}
LEARNABLE_BITS = {"fp8": 8, "fp6": 6, "fp4": 4, "fp3": 3, "fp2": 2}


def float_grid(bits: int) -> torch.Tensor:
    """The 2^bits sorted float-like levels at unit quantum (fp2: [-2, 0, 2, 4]), see above."""
    ebits, mbits = MAGNITUDE_FORMATS[bits]
    bias = 2 ** (ebits - 1) - 1
    exponent = torch.arange(2**ebits).repeat_interleave(2**mbits)
    mantissa = torch.arange(2**mbits).repeat(2**ebits).double() / 2**mbits
    # E == 0 encodes subnormals m * 2^(1 - bias); E > 0 normals (1 + m) * 2^(E - bias)
    magnitudes = torch.where(
        exponent == 0,
        mantissa * 2.0 ** (1 - bias),
        (1 + mantissa) * 2.0 ** (exponent - bias).double(),
    )
    extra = 2 * magnitudes[-1] - magnitudes[-2]
    return torch.cat([-magnitudes[1:].flip(0), magnitudes, extra[None]]).float()


def initial_values(bits: int) -> torch.Tensor:
    """float_grid(bits) scaled so that the largest level is 1 (the tensor's amax)."""
    grid = float_grid(bits)
    return grid / grid[-1]


def nearest(x: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Index of the nearest of the sorted `values` for every element of `x` (ties: lower)."""
    midpoints = (values[1:] + values[:-1]) / 2
    return torch.searchsorted(midpoints, x.contiguous())


def _scale(x: torch.Tensor) -> torch.Tensor:
    """The per-tensor amax (NaN if x holds one), at least the dtype's smallest normal."""
    return x.detach().abs().amax().clamp_min(torch.finfo(x.dtype).tiny)


def _fused_scale(x: torch.Tensor) -> torch.Tensor:
    """_scale in one pass over x: the larger of max and -min."""
    low, high = torch.aminmax(x)
    return torch.maximum(high, -low).clamp_min(torch.finfo(x.dtype).tiny)


def straight_through_round(x: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """amax * values[nearest] with a straight-through gradient to x, in plain differentiable
    torch ops: the formula the fast path reproduces, and what tracing compilers see."""
    scale = _scale(x)
    with torch.no_grad():
        index = nearest(x / scale, values.to(x.dtype))
    return ste(x, values[index].to(x.dtype) * scale)


def _codebook(v: torch.Tensor, scale: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The midpoints of the sorted values `v` and one more at +inf; the levels v * scale and
    one more, NaN: an element whose x / scale is NaN (x is +-inf or NaN) comes out NaN, as
    x - x makes it in the formula. + 0.0 turns a level of -0 into +0, as adding x - x (+0)
    does. For fp32 CPU tensors in numpy (the same fp32 operations): these small arrays cost
    microseconds there, tens of them in torch ops, at every forward of every quantiser."""
    if v.device.type == "cpu" and v.dtype == torch.float32 == scale.dtype:
        values, s = v.detach().numpy(), np.float32(scale.item())
        midpoints = np.empty(values.size, np.float32)
        levels = np.empty(values.size + 1, np.float32)
        with np.errstate(all="ignore"):  # a non-finite scale: NaN and inf, as in torch
            midpoints[:-1] = (values[1:] + values[:-1]) / np.float32(2)
            levels[:-1] = values * s + np.float32(0)
        midpoints[-1], levels[-1] = np.inf, np.nan
        return torch.from_numpy(midpoints), torch.from_numpy(levels)
    inf, nan = v.new_full((1,), float("inf")), v.new_full((1,), float("nan"))
    return torch.cat([(v[1:] + v[:-1]) / 2, inf]), torch.cat([v * scale + 0.0, nan])


class _RoundToValues(torch.autograd.Function):
    """straight_through_round in one node: forward saves the levels and the scale."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        ctx.values_dtype, ctx.levels = values.dtype, values.numel()
        fused = round_to_values(x, values)
        if fused is not None:  # the kernels' path: its levels (uint8) and fp32 scale in numpy
            ctx.index, out, ctx.scale = fused
            return out
        scale = _fused_scale(x)
        midpoints, levels = _codebook(values.to(x.dtype), scale)
        index, out = round_to_levels(x, scale, midpoints, levels)
        ctx.index = None
        ctx.save_for_backward(index, scale)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        grad_values = None
        if ctx.needs_input_grad[1] and ctx.index is not None:
            grad_values = sums_to_values(grad, ctx.scale, ctx.index, ctx.levels)
        elif ctx.needs_input_grad[1]:
            index, scale = ctx.saved_tensors
            sums = sum_per_level(grad, scale, index, ctx.levels + 1, ctx.values_dtype)
            # NaN elements (a non-finite scale: every term is +-inf or NaN) joined the top level
            sums[-2] += sums[-1]
            grad_values = sums[:-1]
        return (grad if ctx.needs_input_grad[0] else None), grad_values


class LearnableQuantizer(nn.Module):
    """x -> amax * v[nearest], v trained; straight-through to x.

    Each output's gradient (times the scale) accumulates into the value it was rounded to,
    which is the exact gradient of the output with respect to v. The values are sorted in
    every forward (a differentiable permutation) so that they stay a valid codebook whatever
    the optimiser does to their order, and their optimiser state stays with them.
    """

    def __init__(self, bits: int) -> None:
        super().__init__()
        self.values = nn.Parameter(initial_values(bits))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = torch.sort(self.values).values
        if torch.compiler.is_compiling() or torch.jit.is_tracing():
            return straight_through_round(x, values)
        return _RoundToValues.apply(x, values)
