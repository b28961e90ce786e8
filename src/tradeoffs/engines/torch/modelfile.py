"""model.pt: the trained weights plus what rebuilding the model needs (name, activation,
classes, input shape, precision, normalisation), so evaluate and benchmark jobs stand alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from tradeoffs import io, precision
from tradeoffs.engines.torch.data import DeviceData
from tradeoffs.fileformat import FileFormat, require
from tradeoffs.models.torch import build_model
from tradeoffs.models.torch.onnxfile import OnnxModule
from tradeoffs.runspec import RunSpec


def build(spec: RunSpec, num_classes: int, in_shape: tuple[int, int, int]) -> nn.Module:
    """The run's model at its precision: the fp32 network passed through `quantize_model`
    (the identity at fp32), so every precision shares one code path."""
    model = build_model(
        spec.model,
        spec.act,
        num_classes,
        in_shape,
        spec.model_options,
        declared=spec.declared_model,
        weights=spec.transfer_cfg["weights"],
    )
    return precision.quantize_model(model, spec.precision, spec.quant_cfg)


def meta_of(
    spec: RunSpec, data: DeviceData, shape: tuple[int, int, int], channels_last: bool
) -> dict[str, Any]:
    """What model.pt keeps beside the weights to rebuild the model and feed it as trained."""
    return {
        "model": spec.model,
        "act": spec.act,
        "precision": spec.precision,
        "num_classes": len(data.classes),
        "classes": data.classes,
        "in_shape": list(shape),
        "norm_mean": data.mean,
        "norm_std": data.std,
        "channels_last": channels_last,
    }


def save(path: Path, model: nn.Module, meta: dict[str, Any]) -> None:
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    with io.atomic_path(path) as tmp:
        torch.save({"state_dict": state, "meta": meta}, tmp)


def onnx_source(spec: RunSpec) -> Path | None:
    """The ONNX file of a pretrained ONNX run (its model.pt then holds the meta only)."""
    entry = spec.pretrained
    return Path(entry["file"]) if entry and entry["framework"] == "onnx" else None


def load(spec: RunSpec, device: torch.device) -> tuple[nn.Module, dict[str, Any]]:
    """The trained model on `device` in eval mode, and the meta saved with it. Only torch's zip
    format is read, and only tensors and plain data in it (`weights_only`): anything else is an
    `UnexpectedFormatError` before torch reads it."""
    require(spec.model_path, FileFormat.TORCH_ZIP)
    saved = torch.load(spec.model_path, map_location="cpu", weights_only=True)
    meta = saved["meta"]
    if onnx_source(spec) is not None:
        return OnnxModule(onnx_source(spec), spec.threads).eval(), meta
    model = build(spec, meta["num_classes"], tuple(meta["in_shape"]))
    model.load_state_dict(saved["state_dict"])
    return model.to(device).eval(), meta
