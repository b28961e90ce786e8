"""Stored size of a model's parameters at a precision.

Quantised weights take registry.PRECISION_BITS bits per value, plus, per quantised layer:
learnable formats, the fp32 codebooks (2^bits values for the weight quantiser and for the
input quantiser) and the weight's fp32 per-tensor scale; OCP formats, the weight's fp32 scale
(per tensor) or one 8-bit E8M0 scale per block of 32 values of each output row (block32).
Everything else (biases, norms, embeddings, layers kept fp32) is fp32. Input scales are
computed at run time and not stored. Buffers (BatchNorm running statistics) are not counted,
at any precision, as in the fp32 size.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from tradeoffs.precision.learnable import LEARNABLE_BITS, LearnableQuantizer
from tradeoffs.precision.modules import OCPQuantizer, quantised_layers
from tradeoffs.precision.ocp import BLOCK, FORMATS
from tradeoffs.registry import PRECISION_BITS

FP32_BYTES = 4
E8M0_BYTES = 1
MB = 2**20


def _quantiser_parameters(model: nn.Module) -> set[int]:
    """Parameters of the quantisers themselves (learnable values), counted as codebooks."""
    quantisers = (m for m in model.modules() if isinstance(m, LearnableQuantizer | OCPQuantizer))
    return {id(p) for m in quantisers for p in m.parameters()}


def _weight(layer: nn.Module, name: str) -> nn.Parameter:
    """The stored (unquantised) weight, whether or not `layer` is already quantised."""
    parametrizations = getattr(layer, "parametrizations", {})
    return parametrizations[name].original if name in parametrizations else getattr(layer, name)


def _weight_bytes(w: torch.Tensor, precision: str, scale: str) -> float:
    """A quantised weight with its scales and, for learnable formats, its codebook."""
    bits = PRECISION_BITS[precision]
    stored = w.numel() * bits / 8
    if precision in LEARNABLE_BITS:
        return stored + FP32_BYTES + 2**bits * FP32_BYTES
    if precision not in FORMATS:
        raise ValueError(f"no footprint for precision {precision!r}")
    if scale == "block32":
        rows = w.shape[0]
        return stored + rows * math.ceil(w.numel() // rows / BLOCK) * E8M0_BYTES
    return stored + FP32_BYTES


def footprint_bytes(model: nn.Module, precision: str, cfg: dict[str, Any]) -> float:
    """Bytes of `model`'s parameters stored at `precision` (model quantised or not)."""
    skip = _quantiser_parameters(model)
    total = 0.0
    if precision != "fp32":
        for plan in quantised_layers(model, cfg.get("first_last", "fp32")):
            for name in plan.weights:
                w = _weight(plan.layer, name)
                skip.add(id(w))
                total += _weight_bytes(w, precision, cfg.get("scale", "tensor"))
            if plan.input_dim is not None and precision in LEARNABLE_BITS:
                total += 2 ** PRECISION_BITS[precision] * FP32_BYTES  # the input codebook
    return total + sum(p.numel() * FP32_BYTES for p in model.parameters() if id(p) not in skip)


def footprint_mb(model: nn.Module, precision: str, cfg: dict[str, Any]) -> float:
    """MiB of `model`'s parameters stored at `precision` (see module doc)."""
    return footprint_bytes(model, precision, cfg) / MB


def fp32_footprint_mb(model: nn.Module) -> float:
    """The same model's parameters all in fp32, for comparison."""
    return footprint_mb(model, "fp32", {})
