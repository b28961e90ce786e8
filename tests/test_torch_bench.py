"""FLOP counting works on quantised models too (their weights are parametrized)."""

import pytest
import torch

from tradeoffs import precision
from tradeoffs.engines.torch.bench import forward_flops
from tradeoffs.models.torch import build_model


@pytest.mark.parametrize(
    ("model", "fmt"), [("cnn", "e4m3"), ("cnn", "fp2"), ("mobilenetv2", "fp2")]
)
def test_quantised_model_counts_the_same_flops_as_fp32(model, fmt):
    torch.manual_seed(0)
    fp32 = build_model(model, "relu", 10, (32, 32, 3)).eval()
    quantised = precision.quantize_model(
        build_model(model, "relu", 10, (32, 32, 3)),
        fmt,
        {"scale": "tensor", "first_last": "fp32", "softmax": "fp32"},
    ).eval()
    sample = torch.randn(1, 3, 32, 32)
    assert forward_flops(quantised, sample) == forward_flops(fp32, sample) > 0
    assert all(p.requires_grad for p in quantised.parameters())
