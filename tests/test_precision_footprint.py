"""footprint_mb on hand-computed models, and the precision softmax."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from tradeoffs.precision import footprint_mb, fp32_footprint_mb, log_softmax, quantize_model
from tradeoffs.precision.footprint import footprint_bytes
from tradeoffs.precision.ocp import FORMATS, round_to_grid
from tradeoffs.registry import PRECISIONS


def mlp() -> nn.Module:
    # params: 4*8+8 | 8+8 | 8*64+64 | 64*3+3 = 40 | 16 | 576 | 195 = 827
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 64), nn.Linear(64, 3))


# bytes of everything but the middle Linear's weight, all fp32: (40 + 16 + 64 + 195) * 4
REST = 1260


@pytest.mark.parametrize(
    ("precision", "cfg", "expected"),
    [
        ("fp32", {}, 827 * 4),
        # 512 weights at 4 bits + fp32 scale + weight and input codebooks of 16 fp32 values
        ("fp4", {}, 256 + 4 + 64 + 64 + REST),
        ("fp2", {}, 128 + 4 + 16 + 16 + REST),
        ("e2m1", {}, 256 + 4 + REST),
        # 64 rows of 8 values: one E8M0 byte per row
        ("e2m1", {"scale": "block32"}, 256 + 64 + REST),
        ("e3m2", {}, 384 + 4 + REST),
        # all four quantised; rows x ceil(in/32) scale bytes: 8x1, 64x1, 3x2
        (
            "e4m3",
            {"scale": "block32", "first_last": "quantized"},
            (32 + 8) + 512 + 64 + (192 + 6) + 4 * (8 + 16 + 64 + 3),
        ),
    ],
)
def test_footprint_by_hand(precision, cfg, expected):
    assert footprint_bytes(mlp(), precision, cfg) == expected
    assert footprint_mb(mlp(), precision, cfg) == expected / 2**20


def test_conv_blocks_run_along_the_im2col_rows():
    conv = nn.Conv2d(16, 4, 3)  # 4 rows of 16*9 = 144 values: 5 blocks each
    assert footprint_bytes(conv, "e2m1", {"scale": "block32", "first_last": "quantized"}) == (
        576 / 2 + 4 * math.ceil(144 / 32) + 4 * 4
    )


@pytest.mark.parametrize("precision", ["fp4", "e4m3"])
def test_footprint_is_the_same_before_and_after_quantising(precision):
    model = mlp()
    before = footprint_mb(model, precision, {}), fp32_footprint_mb(model)
    quantize_model(model, precision, {})
    assert (footprint_mb(model, precision, {}), fp32_footprint_mb(model)) == before


def test_lower_precision_is_smaller():
    # (learnable formats: once the layers outweigh their 2^bits-value codebooks)
    sizes = [footprint_mb(mlp(), p, {"first_last": "quantized"}) for p in ("fp32", "e4m3", "e2m1")]
    assert sizes == sorted(sizes, reverse=True)


def test_softmax_fp32_is_torchs():
    logits = torch.randn(5, 10)
    assert torch.equal(log_softmax(logits, "fp32"), F.log_softmax(logits, dim=-1))


@pytest.mark.parametrize("precision", PRECISIONS)
def test_softmax_at_every_precision_is_a_distribution_and_differentiable(precision):
    logits = (torch.randn(6, 10) * 5).requires_grad_()
    log_p = log_softmax(logits, precision)
    assert torch.allclose(log_p.exp().sum(-1), torch.ones(6))
    F.nll_loss(log_p, torch.arange(6)).backward()
    assert torch.isfinite(logits.grad).all() and (logits.grad != 0).any()


def test_softmax_rounds_the_shifted_logits_onto_the_grid():
    logits = torch.tensor([[3.0, 2.1, 1.9, -100.0]])
    # e2m1: gaps 0, -0.9, -1.1, -103 -> 0, -1, -1, -6 (saturated)
    expected = F.log_softmax(torch.tensor([[0.0, -1.0, -1.0, -6.0]]), dim=-1)
    assert torch.allclose(log_softmax(logits, "e2m1"), expected)
    # fp2's grid {-2, 0, 2, 4}: -0.9 -> 0, -1.1 -> -2, -103 -> -2
    expected = F.log_softmax(torch.tensor([[0.0, 0.0, -2.0, -2.0]]), dim=-1)
    assert torch.allclose(log_softmax(logits, "fp2"), expected)


def test_softmax_gradient_is_straight_through():
    logits = torch.tensor([[0.3, -0.4, 1.2]], requires_grad=True)
    log_softmax(logits, "e4m3").sum().backward()
    z = torch.tensor([[0.3, -0.4, 1.2]]) - 1.2
    zq = round_to_grid(z, FORMATS["e4m3"]).requires_grad_()
    F.log_softmax(zq, dim=-1).sum().backward()
    assert torch.allclose(logits.grad, zq.grad)
