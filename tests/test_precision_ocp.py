"""OCP formats: bit-exact rounding against torch/ml_dtypes casts, saturation, scales, STE."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
import torch

from tradeoffs.precision.modules import OCPQuantizer
from tradeoffs.precision.ocp import FORMATS, block_scales, quantize, round_to_grid

TORCH_DTYPES = {"e4m3": torch.float8_e4m3fn, "e5m2": torch.float8_e5m2}
NUMPY_DTYPES = {
    "e3m2": ml_dtypes.float6_e3m2fn,
    "e2m3": ml_dtypes.float6_e2m3fn,
    "e2m1": ml_dtypes.float4_e2m1fn,
}


def reference_cast(x: torch.Tensor, name: str) -> torch.Tensor:
    if name in TORCH_DTYPES:
        return x.to(TORCH_DTYPES[name]).float()
    return torch.from_numpy(x.numpy().astype(NUMPY_DTYPES[name]).astype(np.float32))


def representable(name: str) -> torch.Tensor:
    """Every finite value of the format, from all its bit patterns (subnormals included)."""
    if name in TORCH_DTYPES:
        values = torch.arange(256, dtype=torch.uint8).view(TORCH_DTYPES[name]).float()
    else:
        dtype = NUMPY_DTYPES[name]
        codes = np.arange(2 ** ml_dtypes.finfo(dtype).bits, dtype=np.uint8)
        values = torch.from_numpy(codes.view(dtype).astype(np.float32))
    return values[torch.isfinite(values)]


def sweep(name: str) -> torch.Tensor:
    """Representable values, midpoints of neighbours (the ties), just off them, beyond max,
    below the smallest subnormal, and random values across the range."""
    grid = representable(name).unique()  # sorted, -0 folded into 0
    mids = (grid[1:].double() + grid[:-1].double()) / 2
    assert torch.equal(mids.float().double(), mids)  # ties are exact in fp32
    mids = mids.float()
    near = torch.cat([torch.nextafter(mids, grid[1:]), torch.nextafter(mids, grid[:-1])])
    fmt = FORMATS[name]
    tiny = grid[grid > 0].min()
    outside = torch.tensor([1.01, 1.5, 2.0, 1e4, 3e38]) * fmt.max
    small = torch.tensor([tiny / 2, tiny / 3, tiny * 0.51, 1e-30, 0.0])
    random = torch.randn(20_000, generator=torch.Generator().manual_seed(0)) * fmt.max / 4
    return torch.cat([grid, mids, near, outside, -outside, small, -small, random])


@pytest.mark.parametrize("name", list(FORMATS))
def test_round_to_grid_matches_reference_casts(name):
    x = sweep(name)
    fmt = FORMATS[name]
    ours = round_to_grid(x, fmt)
    inside = x.abs() <= fmt.max
    ref = reference_cast(x, name)
    assert torch.equal(ours[inside].view(torch.int32), ref[inside].view(torch.int32))
    # Beyond max: the format policy saturates (torch's e5m2 cast would give inf).
    assert torch.equal(ours[~inside], x[~inside].sign() * fmt.max)


@pytest.mark.parametrize("name", list(FORMATS))
def test_grid_is_closed_and_covers_every_value(name):
    grid = representable(name)
    assert len(grid) == {"e4m3": 254, "e5m2": 248, "e3m2": 64, "e2m3": 64, "e2m1": 16}[name]
    assert torch.equal(round_to_grid(grid, FORMATS[name]), grid)
    assert set(round_to_grid(sweep(name), FORMATS[name]).tolist()) <= set(grid.tolist())


@pytest.mark.parametrize("name", list(FORMATS))
@pytest.mark.parametrize("scale", ["tensor", "block32"])
def test_saturation_never_gives_inf_or_nan(name, scale):
    x = torch.tensor([[3e38, -3e38, 1e30, 5.0, -1e-40] * 8])
    q = quantize(x, FORMATS[name], scale)
    assert torch.isfinite(q).all()
    fmt = FORMATS[name]
    assert round_to_grid(torch.tensor([1e9]), fmt).item() == fmt.max
    assert round_to_grid(torch.tensor([-1e9]), fmt).item() == -fmt.max


def test_e5m2_saturates_where_the_torch_cast_overflows():
    x = torch.tensor([61440.0, 1e6])
    assert torch.isinf(x.to(torch.float8_e5m2).float()).all()
    assert round_to_grid(x, FORMATS["e5m2"]).tolist() == [57344.0, 57344.0]


@pytest.mark.parametrize("name", list(FORMATS))
def test_tensor_scale_maps_amax_to_max(name):
    x = torch.randn(7, 13)
    q = quantize(x, FORMATS[name], "tensor")
    assert torch.allclose(q.abs().max(), x.abs().max())
    assert torch.equal(quantize(torch.zeros(5), FORMATS[name]), torch.zeros(5))


@pytest.mark.parametrize("name", list(FORMATS))
def test_block32_scales_are_powers_of_two_per_block(name):
    fmt = FORMATS[name]
    x = torch.randn(3, 70) * torch.logspace(-3, 3, 70)  # 3 blocks per row, the last padded
    scales = block_scales(x, fmt)
    assert scales.shape == (3, 3, 1)
    mantissa, _ = torch.frexp(scales)
    assert (mantissa == 0.5).all()  # exact powers of two
    # 2^(floor(log2(amax)) - emax_elem), block by block
    padded = torch.nn.functional.pad(x, (0, 26)).view(3, 3, 32)
    expected = 2.0 ** (padded.abs().amax(-1, keepdim=True).log2().floor() - fmt.emax)
    assert torch.equal(scales, expected)
    q = quantize(x, fmt, "block32")
    by_hand = (round_to_grid(padded / scales, fmt) * scales).flatten(1)[:, :70]
    assert torch.equal(q, by_hand)


def test_block32_runs_along_the_given_dim():
    fmt = FORMATS["e2m1"]
    x = torch.randn(2, 64, 3, 3)
    moved = quantize(x.movedim(1, -1), fmt, "block32").movedim(-1, 1)
    assert torch.equal(quantize(x, fmt, "block32", dim=1), moved)


@pytest.mark.parametrize("name", list(FORMATS))
@pytest.mark.parametrize("scale", ["tensor", "block32"])
def test_ste_gradient_is_identity(name, scale):
    x = torch.randn(4, 40, requires_grad=True)
    upstream = torch.randn(4, 40)
    OCPQuantizer(name, scale, -1)(x).backward(upstream)
    assert torch.equal(x.grad, upstream)


def test_half_precision_inputs_keep_their_dtype():
    x = torch.randn(8, 32, dtype=torch.bfloat16)
    q = quantize(x, FORMATS["e4m3"], "block32")
    assert q.dtype == torch.bfloat16
    assert torch.equal(
        round_to_grid(x, FORMATS["e4m3"]).float(), round_to_grid(x.float(), FORMATS["e4m3"])
    )
