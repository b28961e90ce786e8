"""Quantise any torch model: the weights and inputs of every Linear, ConvNd and attention.

Weights are quantised through a parametrization (so `module.weight` is the quantised tensor
wherever the module reads it, e.g. inside nn.MultiheadAttention), inputs through a forward
pre-hook. Both use the straight-through estimator. Other layers (norms, biases, pooling,
embeddings, activations, attention's softmax and its two activation x activation products)
stay fp32; activations are quantised where they enter the next layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.utils import parametrize

from tradeoffs.precision.learnable import LEARNABLE_BITS, LearnableQuantizer
from tradeoffs.precision.ocp import FORMATS, straight_through

LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.MultiheadAttention)
ATTENTION_WEIGHTS = ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight")
FIRST_LAST = ("fp32", "quantized")


class OCPQuantizer(nn.Module):
    """Fake-quantisation onto an OCP format, MX blocks along `dim` (the reduction dim)."""

    def __init__(self, fmt: str, scale: str, dim: int) -> None:
        super().__init__()
        self.fmt, self.scale, self.dim = FORMATS[fmt], scale, dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return straight_through(x, self.fmt, self.scale, self.dim)

    def extra_repr(self) -> str:
        return f"{self.fmt.name}, scale={self.scale}, dim={self.dim}"


class WeightQuantizer(nn.Module):
    """Quantises a weight as the (out, kh*kw*in) matrix of its im2col product, so that MX
    blocks run along the input channels, aligned with the blocks of the conv's input. A
    per-tensor quantiser is elementwise under one scale, so it skips that copy: same values."""

    def __init__(self, quantizer: nn.Module) -> None:
        super().__init__()
        self.quantizer = quantizer

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        if w.dim() <= 2 or getattr(self.quantizer, "scale", None) != "block32":
            return self.quantizer(w)
        matrix = w.movedim(1, -1)
        q = self.quantizer(matrix.flatten(1)).view(matrix.shape)
        return q.movedim(-1, 1)


def make_quantizer(precision: str, cfg: dict[str, Any], dim: int = -1) -> nn.Module:
    """A fresh quantiser for `precision`; `cfg["scale"]` picks OCP scaling (tensor|block32)."""
    if precision in LEARNABLE_BITS:
        return LearnableQuantizer(LEARNABLE_BITS[precision])
    if precision in FORMATS:
        return OCPQuantizer(precision, cfg.get("scale", "tensor"), dim)
    raise ValueError(f"no quantiser for precision {precision!r}")


@dataclass(frozen=True)
class Plan:
    """One layer to quantise: its weights, and the block dim of its inputs (None: its inputs
    are not seen, as nn.MultiheadAttention's out_proj, whose forward is never called)."""

    name: str
    layer: nn.Module
    weights: tuple[str, ...]
    input_dim: int | None


def _plan(name: str, layer: nn.Module, hidden_inputs: set[int]) -> Plan:
    if isinstance(layer, nn.MultiheadAttention):
        weights = tuple(w for w in ATTENTION_WEIGHTS if getattr(layer, w) is not None)
    else:
        weights = ("weight",)
    # Conv inputs are NC...: MX blocks along the channels, the conv's reduction dim.
    dim = 1 if isinstance(layer, nn.Conv1d | nn.Conv2d | nn.Conv3d) else -1
    return Plan(name, layer, weights, None if id(layer) in hidden_inputs else dim)


def quantised_layers(model: nn.Module, first_last: str = "fp32") -> list[Plan]:
    """The layers `quantize_model` quantises, in registration order.

    With first_last="fp32" the first and the last quantisable layer (registration order,
    which for every model here is the stem and the classifier head) stay fp32.
    """
    if first_last not in FIRST_LAST:
        raise ValueError(f"unknown first_last {first_last!r}; choose from: {', '.join(FIRST_LAST)}")
    hidden = {id(m.out_proj) for m in model.modules() if isinstance(m, nn.MultiheadAttention)}
    plans = [_plan(n, m, hidden) for n, m in model.named_modules() if isinstance(m, LAYERS)]
    return plans[1:-1] if first_last == "fp32" else plans


def _quantise_inputs(module: nn.Module, args: tuple) -> tuple:
    """Forward pre-hook: quantise the layer's inputs (query, key, value for attention),
    once per distinct tensor so that self-attention keeps query is key is value."""
    count = 3 if isinstance(module, nn.MultiheadAttention) else 1
    done: dict[int, torch.Tensor] = {}
    quantised = []
    for arg in args[:count]:
        if id(arg) not in done:
            done[id(arg)] = module.input_quantizer(arg)
        quantised.append(done[id(arg)])
    return (*quantised, *args[count:])


def quantize_model(model: nn.Module, precision: str, cfg: dict[str, Any]) -> nn.Module:
    """Quantise `model` in place at `precision` (and return it); fp32 returns it unchanged.

    cfg: `scale` (tensor|block32, OCP formats), `first_last` (fp32|quantized).
    Save and load it through state_dict (parametrized modules do not pickle whole).
    """
    if precision == "fp32":
        return model
    if any(parametrize.is_parametrized(m) for m in model.modules()):
        raise ValueError("model is already quantised")
    for plan in quantised_layers(model, cfg.get("first_last", "fp32")):
        for name in plan.weights:
            quantizer = WeightQuantizer(make_quantizer(precision, cfg))
            parametrize.register_parametrization(plan.layer, name, quantizer)
        if plan.input_dim is not None:
            plan.layer.input_quantizer = make_quantizer(precision, cfg, plan.input_dim)
            plan.layer.register_forward_pre_hook(_quantise_inputs)
    return model


def freeze_weights(model: nn.Module) -> nn.Module:
    """Store every quantised weight in place of its parametrization (in place; returns the
    model): computed once, as a deployed model holds it, instead of at every forward.
    Inference only: training needs the parametrizations. Inputs stay quantised per call."""
    for module in model.modules():
        if parametrize.is_parametrized(module):
            for name in list(module.parametrizations):
                parametrize.remove_parametrizations(module, name, leave_parametrized=True)
    return model
