"""Learnable FP2-FP8 codebooks: initial grids, nearest-value rounding, gradients, training."""

from __future__ import annotations

import pytest
import torch

from tradeoffs.precision.learnable import (
    LEARNABLE_BITS,
    LearnableQuantizer,
    float_grid,
    initial_values,
    nearest,
)


@pytest.mark.parametrize("bits", sorted(LEARNABLE_BITS.values()))
def test_initial_values_are_2_to_the_bits_sorted_distinct_with_zero(bits):
    values = initial_values(bits)
    assert values.shape == (2**bits,)
    assert (values.diff() > 0).all()
    assert 0.0 in values.tolist()
    assert values[-1] == 1.0


def test_initial_grids_by_hand():
    assert float_grid(2).tolist() == [-2, 0, 2, 4]
    assert initial_values(2).tolist() == [-0.5, 0, 0.5, 1]
    assert float_grid(3).tolist() == [-3, -2, -1, 0, 1, 2, 3, 4]
    e2m1 = [0, 0.5, 1, 1.5, 2, 3, 4, 6]
    assert float_grid(4).tolist() == [-v for v in e2m1[:0:-1]] + e2m1 + [8]
    assert float_grid(8)[-3:].tolist() == [448, 480, 512]


def test_nearest_matches_brute_force():
    values = initial_values(4)
    x = torch.randn(1000) * 0.6
    brute = (x[:, None] - values[None, :]).abs().argmin(dim=1)
    assert torch.equal(values[nearest(x, values)], values[brute])


@pytest.mark.parametrize("bits", sorted(LEARNABLE_BITS.values()))
def test_forward_rounds_to_scaled_values(bits):
    q = LearnableQuantizer(bits)
    x = torch.randn(3, 50)
    amax = x.abs().max()
    levels = (q.values * amax).detach()
    out = q(x)
    assert set(out.flatten().tolist()) <= set(levels.tolist())
    brute = levels[(x.flatten()[:, None] - levels).abs().argmin(dim=1)]
    assert torch.allclose(out.flatten(), brute)


def test_gradients_straight_through_and_accumulated_into_values():
    q = LearnableQuantizer(2)
    x = torch.tensor([-0.9, -0.2, 0.1, 0.3, 1.0, 0.8], requires_grad=True)
    upstream = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    q(x).backward(upstream)
    assert torch.equal(x.grad, upstream)
    # values [-0.5, 0, 0.5, 1] * amax 1: -0.9 -> -0.5; -0.2, 0.1 -> 0; 0.3 -> 0.5; 1, 0.8 -> 1
    assert q.values.grad.tolist() == [1.0, 5.0, 4.0, 11.0]


def test_values_stay_a_sorted_codebook_when_their_order_changes():
    q = LearnableQuantizer(3)
    with torch.no_grad():
        q.values.copy_(q.values.flip(0))  # what an optimiser step may do to neighbours
    x = torch.linspace(-1, 1, 101)
    levels = q.values.detach().sort().values
    brute = levels[(x[:, None] - levels).abs().argmin(dim=1)]
    assert torch.allclose(q(x), brute)


@pytest.mark.parametrize("precision", list(LEARNABLE_BITS))
def test_values_move_during_training(precision):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    quantizer = LearnableQuantizer(LEARNABLE_BITS[precision])
    start = quantizer.values.detach().clone()
    params = [*model.parameters(), *quantizer.parameters()]
    optimizer = torch.optim.Adam(params, lr=1e-2)
    x, y = torch.randn(64, 8), torch.randint(0, 3, (64,))
    for _ in range(5):
        optimizer.zero_grad()
        hidden = quantizer(model[1](model[0](x)))
        torch.nn.functional.cross_entropy(model[2](hidden), y).backward()
        optimizer.step()
    assert not torch.equal(quantizer.values.detach(), start)
    assert torch.isfinite(quantizer.values).all()
