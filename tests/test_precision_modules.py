"""quantize_model on any nn.Module: every format x activation, layer policy, attention,
checkpoints, the registry's torch models."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from tradeoffs.models.torch.activations import activation_factory
from tradeoffs.precision import quantize_model
from tradeoffs.precision.learnable import LearnableQuantizer
from tradeoffs.precision.modules import OCPQuantizer, quantised_layers
from tradeoffs.registry import ACTIVATIONS, LEARNABLE_PRECISIONS, MODELS, OCP_PRECISIONS

# every non-fp32 precision, the OCP ones with both scales
SETTINGS = [(p, "tensor") for p in LEARNABLE_PRECISIONS] + [
    (p, s) for p in OCP_PRECISIONS for s in ("tensor", "block32")
]


def tiny(act: str = "relu") -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        activation_factory(act)(),
        nn.Conv2d(8, 40, 3, padding=1),
        nn.BatchNorm2d(40),
        activation_factory(act)(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(40, 16),
        activation_factory(act)(),
        nn.Linear(16, 4),
    )


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize(("precision", "scale"), SETTINGS)
def test_every_format_and_activation_trains(precision, scale, act):
    torch.manual_seed(0)
    model = quantize_model(tiny(act), precision, {"scale": scale, "first_last": "quantized"})
    out = model(torch.randn(2, 3, 6, 6))
    out.sum().backward()
    assert out.shape == (2, 4) and torch.isfinite(out).all()
    weights = [p for name, p in model.named_parameters() if name.endswith("weight.original")]
    assert len(weights) == 4
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in weights)
    assert (weights[-1].grad != 0).any()


@pytest.mark.parametrize("precision", ["fp4", "e2m1"])
def test_forward_differs_from_fp32_and_weights_read_quantised(precision):
    torch.manual_seed(0)
    model = tiny()
    reference = tiny()
    reference.load_state_dict(model.state_dict())
    quantize_model(model, precision, {})
    x = torch.randn(2, 3, 6, 6)
    assert not torch.allclose(model(x), reference(x))
    assert len(model[3].weight.unique()) <= 16  # a 4-bit grid, times one scale


def test_first_last_policy():
    model = quantize_model(tiny(), "e4m3", {})
    quantised = [i for i, m in enumerate(model) if parametrize.is_parametrized(m)]
    assert quantised == [3, 8]
    assert not hasattr(model[0], "input_quantizer") and not hasattr(model[10], "input_quantizer")
    everything = quantize_model(tiny(), "e4m3", {"first_last": "quantized"})
    assert [i for i, m in enumerate(everything) if parametrize.is_parametrized(m)] == [0, 3, 8, 10]


def test_fp32_is_unchanged_and_quantising_twice_is_refused():
    model = tiny()
    assert quantize_model(model, "fp32", {}) is model
    assert not any(parametrize.is_parametrized(m) for m in model.modules())
    quantize_model(model, "fp4", {})
    with pytest.raises(ValueError, match="already"):
        quantize_model(model, "fp4", {})


def test_input_quantiser_blocks_run_along_channels_for_conv():
    model = quantize_model(tiny(), "e2m1", {"scale": "block32"})
    assert model[3].input_quantizer.dim == 1 and model[8].input_quantizer.dim == -1


class Attention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(6, 32)
        self.attn = nn.MultiheadAttention(32, 4, batch_first=True)
        self.head = nn.Linear(32, 3)

    def forward(self, x):
        h = self.embed(x)
        return self.head(self.attn(h, h, h, need_weights=False)[0].mean(1))


@pytest.mark.parametrize("precision", ["fp3", "e5m2"])
def test_attention_weights_and_inputs_are_quantised(precision):
    torch.manual_seed(0)
    model = quantize_model(Attention(), precision, {"scale": "block32"})
    names = [p.name for p in quantised_layers(model)]
    assert names == ["attn", "attn.out_proj"]
    assert parametrize.is_parametrized(model.attn, "in_proj_weight")
    assert parametrize.is_parametrized(model.attn.out_proj, "weight")
    assert not hasattr(model.attn.out_proj, "input_quantizer")  # never called by attention
    x = torch.randn(2, 5, 6)
    model(x).sum().backward()
    assert model.attn.parametrizations.in_proj_weight.original.grad is not None
    model.eval()
    with torch.no_grad():
        assert torch.isfinite(model(x)).all()


def test_state_dict_round_trip():
    torch.manual_seed(0)
    model = quantize_model(tiny(), "fp4", {})
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.randn(4, 3, 6, 6)).sum().backward()
    optimizer.step()
    restored = quantize_model(tiny(), "fp4", {})
    restored.load_state_dict(model.state_dict())
    model.eval(), restored.eval()
    x = torch.randn(2, 3, 6, 6)
    assert torch.equal(model(x), restored(x))


def test_quantisers_by_format():
    model = quantize_model(tiny(), "fp6", {})
    assert isinstance(model[3].input_quantizer, LearnableQuantizer)
    assert model[3].input_quantizer.values.numel() == 64
    model = quantize_model(tiny(), "e3m2", {"scale": "block32"})
    assert isinstance(model[3].input_quantizer, OCPQuantizer)
    with pytest.raises(ValueError, match="scale"):
        quantize_model(tiny(), "e3m2", {"scale": "block16"})(torch.randn(1, 3, 4, 4))
    with pytest.raises(ValueError, match="first_last"):
        quantize_model(tiny(), "e3m2", {"first_last": "int8"})


TORCH_MODELS = sorted(name for name, impls in MODELS.items() if "torch" in impls)


@pytest.mark.slow
@pytest.mark.parametrize("name", TORCH_MODELS)
def test_registered_torch_models_train_quantised(name):
    models = pytest.importorskip(
        "tradeoffs.models.torch",
        reason="tradeoffs.models.torch.build_model does not exist yet (torch engine issue)",
    )
    if not hasattr(models, "build_model"):
        pytest.skip("tradeoffs.models.torch.build_model does not exist yet (torch engine issue)")
    shape = MODELS[name]["torch"].input_shape
    for precision, scale, act in [("fp4", "tensor", "gelu"), ("e4m3", "block32", "relu")]:
        torch.manual_seed(0)
        model = models.build_model(name, act, 10, shape)
        quantize_model(model, precision, {"scale": scale})
        assert quantised_layers(model)  # something between stem and head is quantised
        out = model(torch.randn(2, shape[2], shape[0], shape[1]))
        out.sum().backward()
        assert out.shape == (2, 10) and torch.isfinite(out).all()


@pytest.mark.parametrize(("precision", "scale"), [("fp4", "tensor"), ("e4m3", "block32")])
def test_frozen_weights_give_the_same_outputs_without_requantising(precision, scale):
    from tradeoffs.precision import freeze_weights

    torch.manual_seed(0)
    model = quantize_model(tiny(), precision, {"scale": scale}).eval()
    x = torch.randn(5, 3, 8, 8)
    with torch.no_grad():
        expected = model(x)
    quantised = [m.weight.clone() for m in model.modules() if parametrize.is_parametrized(m)]
    assert quantised
    freeze_weights(model)
    assert not any(parametrize.is_parametrized(m) for m in model.modules())
    stored = [m.weight for m in model.modules() if hasattr(m, "input_quantizer")]
    assert all(torch.equal(a, b) for a, b in zip(quantised, stored, strict=True))
    with torch.no_grad():
        torch.testing.assert_close(model(x), expected, rtol=0, atol=0)
