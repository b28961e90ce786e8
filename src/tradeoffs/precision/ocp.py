"""OCP floating-point formats (OFP8 E4M3/E5M2, MX FP6 E3M2/E2M3, MX FP4 E2M1) and their scales.

Rounding is to nearest, ties to even, onto the format's grid (subnormals included) with
saturation to the largest finite value: no format here produces inf or NaN from finite input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from tradeoffs.precision.search import MIN_ELEMENTS
from tradeoffs.precision.ste import ste

BLOCK = 32  # MX block size: values sharing one E8M0 scale
E8M0_MIN, E8M0_MAX = -127, 127  # exponent range of the E8M0 scale


@dataclass(frozen=True)
class OCPFormat:
    name: str
    ebits: int
    mbits: int
    bias: int
    max: float  # largest finite value

    @property
    def emin(self) -> int:
        """Exponent of the smallest normal; subnormals share its quantum."""
        return 1 - self.bias

    @property
    def emax(self) -> int:
        """Exponent of the largest normal (emax_elem in the MX spec)."""
        return math.floor(math.log2(self.max))


FORMATS = {
    f.name: f
    for f in (
        OCPFormat("e4m3", 4, 3, 7, 448.0),
        OCPFormat("e5m2", 5, 2, 15, 57344.0),
        OCPFormat("e3m2", 3, 2, 3, 28.0),
        OCPFormat("e2m3", 2, 3, 1, 7.5),
        OCPFormat("e2m1", 2, 1, 1, 6.0),
    )
}
SCALES = ("tensor", "block32")


def _floor_log2(x: torch.Tensor) -> torch.Tensor:
    """floor(log2|x|), exact (frexp, not log2, whose rounding misplaces values just below 2^k)."""
    return torch.frexp(x)[1] - 1


def round_to_grid(x: torch.Tensor, fmt: OCPFormat) -> torch.Tensor:
    """`x` rounded to the nearest value of `fmt` (ties to even), saturating at +-max. Scale 1."""
    dtype = x.dtype
    x = x.float().clamp(-fmt.max, fmt.max)
    # The quantum of x's binade, 2^(e - mbits), built in x's fp32 exponent field (in place,
    # unshifted); below the format's normal range every value has the subnormal quantum
    # 2^(emin - mbits).
    exponent = x.view(torch.int32) & 0x7F800000
    exponent.clamp_(min=(fmt.emin + 127) << 23).sub_(fmt.mbits << 23)
    quantum = exponent.view(torch.float32)
    # Division by a power of two is exact and torch.round is half-to-even.
    return x.div(quantum).round_().mul_(quantum).to(dtype)


def abs_max(x: torch.Tensor) -> torch.Tensor:
    """max |x| (NaN if x holds one) as fp32, in one pass: the larger of max and -min."""
    low, high = torch.aminmax(x.detach())
    return torch.maximum(high, -low).float()


def tensor_scale(x: torch.Tensor, fmt: OCPFormat) -> torch.Tensor:
    """One fp32 scale mapping amax(|x|) onto the format's max (1 for an all-zero tensor, and
    for one holding a NaN)."""
    amax = abs_max(x)
    return torch.where(amax > 0, amax / fmt.max, torch.ones_like(amax))


def _blocks(x: torch.Tensor) -> torch.Tensor:
    """x (..., n) as (..., ceil(n/32), 32), zero-padded (zeros never change a block's amax)."""
    pad = -x.shape[-1] % BLOCK
    if pad:
        x = torch.nn.functional.pad(x, (0, pad))
    return x.unflatten(-1, (-1, BLOCK))


def block_scales(x: torch.Tensor, fmt: OCPFormat) -> torch.Tensor:
    """MX E8M0 scales 2^(floor(log2(amax)) - emax_elem) per block of 32 along the last dim,
    shape (..., ceil(n/32), 1)."""
    amax = _blocks(x.detach().float()).abs().amax(dim=-1, keepdim=True)
    exp = (_floor_log2(amax) - fmt.emax).clamp(E8M0_MIN, E8M0_MAX)
    return torch.ldexp(torch.ones_like(amax), exp)


def quantize(x: torch.Tensor, fmt: OCPFormat, scale: str = "tensor", dim: int = -1) -> torch.Tensor:
    """`x` on `fmt`'s grid after scaling: per tensor, or per block of 32 along `dim` (MX).

    With MX scales amax/scale lies in [2^emax, 2^(emax+1)), which can exceed max (e.g. 480 for
    E4M3): those values saturate, as the spec says.
    """
    if scale == "tensor":
        s = tensor_scale(x, fmt)
        return (round_to_grid(x.float() / s, fmt) * s).to(x.dtype)
    if scale != "block32":
        raise ValueError(f"unknown scale {scale!r}; choose from: {', '.join(SCALES)}")
    moved = x.float().movedim(dim, -1)
    blocks = _blocks(moved)
    s = block_scales(moved, fmt)
    q = (round_to_grid(blocks / s, fmt) * s).flatten(-2)[..., : moved.shape[-1]]
    return q.movedim(-1, dim).to(x.dtype)


class _TensorScaleStraightThrough(torch.autograd.Function):
    """ste(x, quantize(x, fmt, "tensor")) in one node: the scale's pass, then one pass of
    `kernels.round_to_grid`; the gradient to x is the upstream gradient, as ste's."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, fmt: OCPFormat) -> torch.Tensor:
        from tradeoffs.precision import kernels  # numba: only for large tensors

        flat = x.detach().contiguous().reshape(-1)
        out = torch.empty(x.shape, dtype=x.dtype)
        kernels.round_to_grid(
            flat.numpy(),
            np.float32(tensor_scale(flat, fmt).item()),
            np.float32(fmt.max),
            (fmt.emin + 127) << 23,
            fmt.mbits << 23,
            out.view(-1).numpy(),
        )
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad, None


def straight_through(x: torch.Tensor, fmt: OCPFormat, scale: str, dim: int) -> torch.Tensor:
    """quantize(x, ...) forward, gradient 1 to x: in one fused pass for a per-tensor scale of
    a large fp32 CPU tensor in eager mode (the same bits), else `ste` over `quantize`."""
    fused = (
        scale == "tensor"
        and x.device.type == "cpu"
        and x.dtype == torch.float32
        and x.numel() >= MIN_ELEMENTS
        and not (torch.compiler.is_compiling() or torch.jit.is_tracing())
    )
    if fused:
        return _TensorScaleStraightThrough.apply(x, fmt)
    return ste(x, quantize(x.detach(), fmt, scale, dim))
