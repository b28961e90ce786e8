"""A trained torch model imported as a run's model.pt, in place of training: the state dict
read with `torch.load(weights_only=True)` (or, with the entry's `trust_code: true`, any pickle)
into the network its builder makes, fed as every run's model is (the dataset's images at the
run's input shape, standardised by the training set's per-channel statistics). An ONNX file
(`framework: onnx`) runs in ONNX Runtime through `OnnxModule`; its model.pt holds the meta only
and every later job reads the file itself (its sha256 is in the run's settings)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tradeoffs.engines.settings import TrainSettings
from tradeoffs.engines.torch import modelfile
from tradeoffs.engines.torch.bench import model_facts
from tradeoffs.engines.torch.data import input_shape, load_device_data
from tradeoffs.engines.torch.device import configure, device_name
from tradeoffs.fileformat import require
from tradeoffs.models.torch.onnxfile import OnnxModule, onnx_facts
from tradeoffs.pretrained import ALLOW, FORMATS, NOT_TRAINED, PretrainedError, provenance_of
from tradeoffs.records.provenance import now
from tradeoffs.records.train import not_trained_keys, write_outputs
from tradeoffs.runspec import RunSpec


def _read(path: Path, trust_code: bool) -> Any:
    if trust_code:
        # The entry's `trust_code: true`: its author allowed this file's pickle to run code.
        return torch.load(path, map_location="cpu", weights_only=False)
    return torch.load(path, map_location="cpu", weights_only=True)


def _state_dict(path: Path, trust_code: bool) -> dict[str, Any]:
    try:
        saved = _read(path, trust_code)
    except pickle.UnpicklingError as error:
        first = str(error).strip().splitlines()[0]
        raise PretrainedError(
            f"{path}: torch.load(weights_only=True) refused it ({first}); save "
            f"model.state_dict() instead, or {ALLOW}"
        ) from None
    if isinstance(saved, nn.Module):
        return saved.state_dict()
    if isinstance(saved, dict) and isinstance(saved.get("state_dict"), dict):
        return saved["state_dict"]
    if not isinstance(saved, dict):
        raise PretrainedError(f"{path} holds a {type(saved).__name__}, not a state dict")
    return saved


def import_file(spec: RunSpec) -> None:
    """Write the run's model.pt, a header-only history.csv and train.json (the model's facts,
    the source file and its sha256 in the provenance)."""
    started = now()
    entry = spec.pretrained
    path = Path(entry["file"])
    require(path, *FORMATS[entry["framework"]])
    device = configure(spec)
    settings = TrainSettings.of(spec)
    shape = input_shape(spec, settings.image_size)
    data = load_device_data(spec.prepared_dir(), shape, device, settings.limit_train)
    if entry["framework"] == "onnx":
        model = _checked_onnx(path, spec.threads, data, shape)
    else:
        model = _filled(spec, path, _state_dict(path, entry["trust_code"]), data, shape)
    modelfile.save(spec.model_path, model, modelfile.meta_of(spec, data, shape, False))
    if entry["framework"] == "onnx":
        facts = onnx_facts(path)
    else:  # the file size is model.pt's, as a trained run's
        facts = model_facts(spec, model, data.test.x[:1])
    write_outputs(
        spec,
        [],
        best_epoch=None,
        failure=None,
        device_name=device_name(device),
        started=started,
        provenance_extra=provenance_of(entry),
        **not_trained_keys(NOT_TRAINED),
        early_stopped=False,
        train_samples=0,
        **facts,
    )


def _checked_onnx(path: Path, threads: int, data: Any, shape: tuple) -> nn.Module:
    """The ONNX file as a module, refused unless two test images give num_classes outputs."""
    try:
        model = OnnxModule(path, threads)
        out = model(data.test.x[:2])
    except Exception as error:  # noqa: BLE001  (ONNX Runtime raises its own error types)
        raise PretrainedError(
            f"{path}: ONNX Runtime cannot run it on 2 images of shape (N, C, H, W) = "
            f"(2, {shape[2]}, {shape[0]}, {shape[1]}): {type(error).__name__}: {error}"
        ) from None
    if tuple(out.shape) != (2, len(data.classes)):
        raise PretrainedError(
            f"{path}: its output for 2 images is {tuple(out.shape)}, not (2, "
            f"{len(data.classes)}): it must return num_classes logits per image"
        )
    return model


def _filled(spec: RunSpec, path: Path, state: dict, data: Any, shape: tuple) -> nn.Module:
    """The builder's network with the state dict loaded, in eval mode on the data's device."""
    model = modelfile.build(spec, len(data.classes), shape)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        builder = spec.declared_model["builder"]
        raise PretrainedError(
            f"{path} does not fit the network {builder} builds for {shape} input and "
            f"{len(data.classes)} classes: {str(error)[:600]}"
        ) from None
    return model.to(data.test.x.device).eval()
