"""FP8 inference: skip path off FP8 hardware, and the E4M3 product's numerics on CPU."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from tradeoffs.precision.fp8_inference import (
    FP8Conv2d,
    FP8Linear,
    benchmark_fp8,
    scaled_mm,
    to_e4m3,
    to_fp8,
)
from tradeoffs.precision.ocp import FORMATS, quantize, round_to_grid

E4M3 = FORMATS["e4m3"]


def test_benchmark_is_skipped_with_a_reason_on_cpu():
    result = benchmark_fp8(nn.Linear(16, 16), torch.randn(4, 16), warmup=1, repeats=1)
    assert result["fp8_status"] == "skipped"
    assert "CUDA" in result["fp8_reason"]


def test_to_e4m3_is_the_tensor_scaled_ocp_grid():
    x = torch.randn(64, 48) * 3
    x8, scale = to_e4m3(x)
    assert scale == x.abs().max() / 448
    assert torch.equal(x8.float(), round_to_grid(x / scale, E4M3))
    assert torch.allclose(x8.float() * scale, quantize(x, E4M3, "tensor"))


def test_emulated_product_is_the_product_of_quantised_operands():
    a, b = torch.randn(8, 32), torch.randn(16, 32)
    (a8, sa), (b8, sb) = to_e4m3(a), to_e4m3(b)
    expected = quantize(a, E4M3) @ quantize(b, E4M3).T
    got = scaled_mm(a8, sa, b8, sb, out_dtype=torch.float32, emulate=True)
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_fused_kernel_matches_emulation_where_torch_runs_it():
    a8, sa = to_e4m3(torch.randn(8, 32))
    b8, sb = to_e4m3(torch.randn(16, 32))
    try:
        fused = scaled_mm(a8, sa, b8, sb, out_dtype=torch.float32)
    except (RuntimeError, NotImplementedError) as error:
        pytest.skip(f"torch._scaled_mm does not run on CPU here: {error}")
    assert torch.allclose(fused, scaled_mm(a8, sa, b8, sb, torch.float32, emulate=True), atol=1e-5)


def test_linear_with_unaligned_dims_matches_the_quantised_reference():
    torch.manual_seed(0)
    linear = nn.Linear(20, 10)
    x = torch.randn(2, 3, 20)
    got = FP8Linear.from_linear(linear, emulate=True)(x)
    expected = F.linear(quantize(x, E4M3), quantize(linear.weight.detach(), E4M3), linear.bias)
    assert got.shape == (2, 3, 10) and got.dtype == torch.bfloat16
    assert torch.allclose(got.float(), expected, atol=2e-2, rtol=1e-2)


def test_conv_as_im2col_matches_the_quantised_reference():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 5, 3, stride=2, padding=1, dilation=1)
    x = torch.randn(2, 3, 9, 7)
    got = FP8Conv2d(conv, emulate=True)(x)
    weight = quantize(conv.weight.detach(), E4M3)
    expected = F.conv2d(quantize(x, E4M3), weight, conv.bias, stride=2, padding=1)
    assert got.shape == expected.shape
    assert torch.allclose(got.float(), expected.detach(), atol=2e-2, rtol=1e-2)


def test_to_fp8_converts_linear_and_dense_conv_only():
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3),
        nn.Conv2d(8, 8, 3, groups=8),  # depthwise: stays a bf16 conv
        nn.Flatten(),
        nn.Linear(8, 4),
    )
    attention = nn.MultiheadAttention(16, 2)
    fp8, count = to_fp8(nn.ModuleList([model, attention]), emulate=True)
    assert count == 2
    assert isinstance(fp8[0][0], FP8Conv2d) and isinstance(fp8[0][3], FP8Linear)
    assert isinstance(fp8[0][1], nn.Conv2d) and isinstance(fp8[1].out_proj, nn.Linear)
    assert isinstance(model[0], nn.Conv2d)  # the original is untouched
    out = fp8[0](torch.randn(2, 3, 5, 5).bfloat16())
    assert out.shape == (2, 4) and torch.isfinite(out).all()
