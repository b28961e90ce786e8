"""Torch models: every model x activation trains a step on small input; parameter counts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tradeoffs import registry
from tradeoffs.models.torch import BUILDERS, build_model, replace_activations
from tradeoffs.models.torch.gcn import grid_adjacency

TORCH_MODELS = sorted(name for name, impls in registry.MODELS.items() if "torch" in impls)
HEAVY = {"resnet18", "mobilenetv2", "custom_cnn"}  # millions of parameters to initialise
MODEL_CASES = [
    pytest.param(name, marks=pytest.mark.slow) if name in HEAVY else name for name in TORCH_MODELS
]


def _params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_every_registered_torch_model_has_a_builder():
    assert sorted(BUILDERS) == TORCH_MODELS


@pytest.mark.parametrize("act", registry.ACTIVATIONS)
@pytest.mark.parametrize("name", MODEL_CASES)
def test_forward_and_backward(name: str, act: str):
    torch.manual_seed(0)
    shape = registry.MODELS[name]["torch"].input_shape
    model = build_model(name, act, 7, shape)
    x = torch.randn(2, shape[2], shape[0], shape[1])
    logits = model(x)
    assert logits.shape == (2, 7)
    nn.functional.cross_entropy(logits, torch.tensor([0, 6])).backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_mnist_cnn_parameter_count_follows_seed_004_layers():
    conv1 = 1 * 8 * 3 * 3 + 8  # 1 -> 8 channels, 3x3
    conv2 = 8 * 16 * 3 * 3 + 16  # 8 -> 16 channels, 3x3
    fc1 = 16 * 5 * 5 * 128 + 128  # 28 -> 26 -> 13 -> 11 -> 5, flattened -> 128
    fc2 = 128 * 10 + 10
    model = build_model("mnist_cnn", "relu", 10, (28, 28, 1))
    assert _params(model) == conv1 + conv2 + fc1 + fc2 == 53_866


@pytest.mark.parametrize(
    ("name", "count"),
    [("resnet18", 11_181_642), ("custom_cnn", 2_332_106)],  # seed 001's reported counts
)
def test_seed_001_parameter_counts(name: str, count: int):
    assert _params(build_model(name, "relu", 10, (32, 32, 3))) == count


@pytest.mark.parametrize("name", ["resnet18", "mobilenetv2"])
def test_torchvision_activations_are_all_replaced(name: str):
    model = build_model(name, "gelu", 10, (32, 32, 3))
    kinds = {type(m) for m in model.modules()}
    assert nn.GELU in kinds
    assert not kinds & {nn.ReLU, nn.ReLU6}


def test_replace_activations_gives_each_site_its_own_module():
    model = replace_activations(nn.Sequential(nn.ReLU(), nn.Linear(2, 2), nn.ReLU6()), nn.PReLU)
    assert isinstance(model[0], nn.PReLU) and isinstance(model[2], nn.PReLU)
    assert model[0] is not model[2]


def test_grid_adjacency_is_symmetric_normalised():
    adj = grid_adjacency(3, 4)
    a = (adj > 0).float()  # A + I
    d = a.sum(dim=1)
    assert torch.allclose(adj, adj.T)
    assert torch.allclose(adj, a / torch.sqrt(d[:, None] * d[None, :]))
    assert d[0] == 3 and d[5] == 5  # a corner: itself + 2 neighbours; inside: itself + 4


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="choose from"):
        build_model("nope", "relu", 10, (32, 32, 3))
    with pytest.raises(ValueError, match="choose from"):
        build_model("cnn", "nope", 10, (32, 32, 3))
