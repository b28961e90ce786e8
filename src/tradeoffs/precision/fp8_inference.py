"""FP8 inference beyond simulation: Linear and Conv2d products in E4M3 through torch._scaled_mm.

`to_fp8(model)` swaps every Linear, and every Conv2d with groups=1 (as an im2col product),
for a module holding its weight in E4M3 with one fp32 scale; inputs are quantised per tensor
at run time; products accumulate in fp32 and come out in bf16, the dtype the rest of the model
runs in. `benchmark_fp8` times fp8 against bf16 and fp32 on a GPU with FP8 tensor cores
(compute capability >= 8.9) and reports why it is skipped anywhere else.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from tradeoffs.measure.timing import time_calls

E4M3 = torch.float8_e4m3fn
E4M3_MAX = 448.0
ALIGN = 16  # torch._scaled_mm wants the inner and output dims in multiples of 16


def fp8_unsupported(device: torch.device) -> str | None:
    """Why `device` cannot run FP8 matrix products, or None when it can."""
    if device.type != "cuda":
        return f"FP8 matrix products need a CUDA GPU; the batch is on {device.type}"
    if not hasattr(torch, "_scaled_mm"):
        return f"torch {torch.__version__} has no torch._scaled_mm"
    capability = torch.cuda.get_device_capability(device)
    if capability < (8, 9):
        name = torch.cuda.get_device_name(device)
        return f"{name} has compute capability {capability}; FP8 tensor cores need >= (8, 9)"
    return None


def to_e4m3(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """x as E4M3 with one fp32 scale (amax onto 448): x ~ x8.float() * scale."""
    amax = x.detach().abs().amax().float()
    scale = torch.where(amax > 0, amax / E4M3_MAX, torch.ones_like(amax))
    return (x.float() / scale).clamp(-E4M3_MAX, E4M3_MAX).to(E4M3), scale


def scaled_mm(
    a8: torch.Tensor,
    a_scale: torch.Tensor,
    b8: torch.Tensor,
    b_scale: torch.Tensor,
    out_dtype: torch.dtype = torch.bfloat16,
    emulate: bool = False,
) -> torch.Tensor:
    """(a8 * a_scale) @ (b8 * b_scale).T for E4M3 a8 (M, K) and b8 (N, K); `emulate`: the same
    product in fp32 torch ops (the reference the fused kernel is checked against)."""
    if emulate:
        return (a8.float() @ b8.float().T * (a_scale * b_scale)).to(out_dtype)
    # b8 is row-major (N, K), so b8.T is the column-major (K, N) operand the kernel wants.
    return torch._scaled_mm(a8, b8.T, scale_a=a_scale, scale_b=b_scale, out_dtype=out_dtype)


def _pad_last(x: torch.Tensor, size: int) -> torch.Tensor:
    return F.pad(x, (0, size - x.shape[-1])) if x.shape[-1] != size else x


def _aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


class FP8Linear(nn.Module):
    """y = x W^T + b with W and x in E4M3 (zero-padded to multiples of 16), fp32 accumulation."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, emulate: bool = False):
        super().__init__()
        self.out_features, self.in_features = weight.shape
        padded = F.pad(weight.detach(), (0, _aligned(weight.shape[1]) - weight.shape[1]))
        padded = F.pad(padded, (0, 0, 0, _aligned(weight.shape[0]) - weight.shape[0]))
        weight8, scale = to_e4m3(padded)
        self.register_buffer("weight8", weight8)
        self.register_buffer("weight_scale", scale)
        self.register_buffer("bias", None if bias is None else bias.detach().to(torch.bfloat16))
        self.emulate = emulate

    @classmethod
    def from_linear(cls, linear: nn.Linear, emulate: bool = False) -> FP8Linear:
        return cls(linear.weight, linear.bias, emulate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, self.in_features)
        x8, x_scale = to_e4m3(_pad_last(rows, self.weight8.shape[1]))
        y = scaled_mm(x8, x_scale, self.weight8, self.weight_scale, emulate=self.emulate)
        y = y[:, : self.out_features]
        if self.bias is not None:
            y = y + self.bias
        return y.view(*x.shape[:-1], self.out_features)


class FP8Conv2d(nn.Module):
    """A groups=1 Conv2d as an im2col product: unfold (N, C*kh*kw, L), one FP8Linear."""

    def __init__(self, conv: nn.Conv2d, emulate: bool = False) -> None:
        super().__init__()
        self.out_channels = conv.out_channels
        self.kernel_size, self.stride = conv.kernel_size, conv.stride
        self.padding, self.dilation = conv.padding, conv.dilation
        self.matmul = FP8Linear(conv.weight.flatten(1), conv.bias, emulate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        cols = F.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)
        y = self.matmul(cols.transpose(1, 2))  # (N, L, out)
        oh, ow = (
            (size + 2 * p - d * (k - 1) - 1) // s + 1
            for size, p, d, k, s in zip(
                (h, w), self.padding, self.dilation, self.kernel_size, self.stride, strict=True
            )
        )
        return y.transpose(1, 2).reshape(n, self.out_channels, oh, ow)


def _convertible_conv(m: nn.Module) -> bool:
    return (
        isinstance(m, nn.Conv2d)
        and m.groups == 1
        and m.padding_mode == "zeros"
        and not isinstance(m.padding, str)
    )


def _swap(module: nn.Module, emulate: bool) -> int:
    """Replace convertible children in place; nn.MultiheadAttention reads out_proj's weight
    itself, so it stays whole. Returns how many layers run in FP8."""
    swapped = 0
    for name, child in module.named_children():
        if isinstance(child, nn.Linear):
            setattr(module, name, FP8Linear.from_linear(child, emulate))
            swapped += 1
        elif _convertible_conv(child):
            setattr(module, name, FP8Conv2d(child, emulate))
            swapped += 1
        elif not isinstance(child, nn.MultiheadAttention):
            swapped += _swap(child, emulate)
    return swapped


def to_fp8(model: nn.Module, emulate: bool = False) -> tuple[nn.Module, int]:
    """An eval-mode copy of `model` in bf16 with its Linear/Conv2d products in E4M3, and the
    number of layers converted."""
    fp8 = copy.deepcopy(model).eval().to(torch.bfloat16)
    return fp8, _swap(fp8, emulate)


def benchmark_fp8(
    model: nn.Module, example_batch: torch.Tensor, warmup: int = 10, repeats: int = 50
) -> dict[str, Any]:
    """Latency (p50/p95) and throughput of the batch through `model` in fp8, bf16 and fp32,
    with fp8's largest deviation from fp32; `fp8_status: skipped` off FP8 hardware."""
    reason = fp8_unsupported(example_batch.device)
    if reason is not None:
        return {"fp8_status": "skipped", "fp8_reason": reason}
    fp8_model, layers = to_fp8(model)
    variants = {
        "fp32": (copy.deepcopy(model).eval().float(), example_batch.float()),
        "bf16": (copy.deepcopy(model).eval().to(torch.bfloat16), example_batch.bfloat16()),
        "fp8": (fp8_model, example_batch.bfloat16()),
    }
    result: dict[str, Any] = {"fp8_status": "ok", "fp8_layers": layers}
    outputs = {}
    with torch.inference_mode():
        for name, (net, batch) in variants.items():
            timing = time_calls(
                lambda net=net, batch=batch: net(batch),
                warmup=warmup,
                repeats=repeats,
                sync=torch.cuda.synchronize,
            )
            outputs[name] = net(batch).float()
            result[f"{name}_latency_ms_p50"] = timing.p50_ms
            result[f"{name}_latency_ms_p95"] = timing.p95_ms
            result[f"{name}_throughput_sps"] = len(batch) / (timing.p50_ms / 1e3)
    result["fp8_speedup_vs_bf16"] = result["bf16_latency_ms_p50"] / result["fp8_latency_ms_p50"]
    result["fp8_max_abs_diff_vs_fp32"] = float((outputs["fp8"] - outputs["fp32"]).abs().max())
    return result
