"""Batch-norm recalibration: stale running statistics in, the accuracy the weights earn out."""

import pytest
import torch
from torch import nn

from tradeoffs import precision
from tradeoffs.models.torch.batchnorm import has_batchnorm, recalibrate_batchnorm


def blobs(n: int = 256, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes far from the origin (mean 20), so batch norm's initial statistics (mean 0,
    variance 1) misplace every activation."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = 20.0 + torch.randn(n, 16, generator=g) + 3.0 * (2 * y[:, None] - 1).float()
    return x, y


def stale_model() -> nn.Module:
    """A small network trained in training mode with frozen (momentum 0) running statistics:
    it fits its batches, yet in eval mode normalises with the stale initial ones."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(16, 32), nn.BatchNorm1d(32, momentum=0.0), nn.ReLU(), nn.Linear(32, 2)
    )
    x, y = blobs()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    for _ in range(50):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm1d):
            module.momentum = 0.1
    return model


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    return (model(x).argmax(1) == y).float().mean().item()


@pytest.mark.parametrize("fmt", ["fp32", "fp4", "e4m3"])
def test_recalibration_restores_the_accuracy_stale_statistics_hide(fmt):
    model = precision.quantize_model(stale_model(), fmt, {"first_last": "quantized"})
    train_x, _ = blobs()
    test_x, test_y = blobs(seed=1)
    stale = accuracy(model, test_x, test_y)
    weights = {k: v.clone() for k, v in model.state_dict().items() if "running" not in k}
    assert recalibrate_batchnorm(model, train_x, batch_size=64)
    recalibrated = accuracy(model, test_x, test_y)
    assert stale <= 0.6
    assert recalibrated >= 0.95
    assert not model.training
    after = {k: v for k, v in model.state_dict().items() if "running" not in k}
    assert all(torch.equal(weights[k], after[k]) for k in weights if "num_batches" not in k)


def test_statistics_are_the_training_images_averages():
    model = stale_model()
    x, _ = blobs()
    recalibrate_batchnorm(model, x, batch_size=64)
    bn = model[1]
    with torch.no_grad():
        h = model[0](x)
    torch.testing.assert_close(bn.running_mean, h.mean(0), rtol=1e-4, atol=1e-4)


def test_a_model_without_batch_norm_is_left_alone():
    model = nn.Sequential(nn.Linear(4, 2))
    before = model[0].weight.clone()
    assert not has_batchnorm(model)
    assert not recalibrate_batchnorm(model, torch.randn(8, 4), batch_size=4)
    assert torch.equal(before, model[0].weight)


def test_a_trailing_batch_of_one_is_dropped():
    model = stale_model()
    x, _ = blobs(n=129)  # 2 batches of 64 and one of 1, which batch norm refuses
    assert recalibrate_batchnorm(model, x, batch_size=64)
