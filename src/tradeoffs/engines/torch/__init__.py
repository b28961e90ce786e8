"""The torch engine: train(spec) (the loop in `fit.py`), predict(spec, dataset), benchmark(spec)
(see docs/architecture.md, "Engines")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from tradeoffs import precision
from tradeoffs.data.prepared import adapt_images
from tradeoffs.engines.settings import TrainSettings
from tradeoffs.engines.torch import modelfile
from tradeoffs.engines.torch.data import Split, load_split, to_tensor
from tradeoffs.engines.torch.device import (
    configure,
    device_name,
    peak_vram_mb,
    reset_peak_vram,
    sync_for,
)
from tradeoffs.engines.torch.fit import train
from tradeoffs.engines.torch.steps import logits_of, make_autocast
from tradeoffs.evaluation import Predictions
from tradeoffs.precision.fp8_inference import benchmark_fp8
from tradeoffs.records.nulls import NO_DEVICE_MEMORY, measured
from tradeoffs.runspec import RunSpec
from tradeoffs.runtimes import torch_runtimes
from tradeoffs.runtimes.base import Loaded

__all__ = ["benchmark", "loaded", "predict", "predictor", "train"]


def _trained(
    spec: RunSpec, dataset: str, split: str = "test"
) -> tuple[torch.device, nn.Module, Split]:
    """The trained model on the run's device and `dataset`'s `split`, adapted and normalised
    as in training."""
    device = configure(spec)
    model, meta = modelfile.load(spec, device)
    if meta["channels_last"]:
        model = model.to(memory_format=torch.channels_last)
    data = load_split(
        spec.prepared_dir(dataset),
        split,
        tuple(meta["in_shape"]),
        meta["norm_mean"],
        meta["norm_std"],
        device,
        meta["channels_last"],
    )
    return device, model, data


def predict(spec: RunSpec, dataset: str) -> Predictions:
    """Probabilities and mean NLL of the trained model on `dataset`'s test split."""
    device, model, data = _trained(spec, dataset)
    precision.freeze_weights(model)
    s = TrainSettings.of(spec)
    logits = logits_of(model, data.x, s.batch_size, make_autocast(s, device))
    logp = precision.log_softmax(logits, spec.quant_cfg["softmax"])
    loss = torch.nn.functional.nll_loss(logp, data.y).item()
    return Predictions(logp.exp().cpu().numpy(), data.y.cpu().numpy(), loss)


def predictor(spec: RunSpec) -> Callable[[np.ndarray], np.ndarray]:
    """The model loaded once, as probabilities of uint8 NHWC images, adapted and normalised as in
    predict (the dashboard's path)."""
    device = configure(spec)
    model, meta = modelfile.load(spec, device)
    precision.freeze_weights(model)
    s = TrainSettings.of(spec)

    def probs(images: np.ndarray) -> np.ndarray:
        x = adapt_images(images, tuple(meta["in_shape"]))
        x = to_tensor(x, meta["norm_mean"], meta["norm_std"], device, meta["channels_last"])
        logits = logits_of(model, x, s.batch_size, make_autocast(s, device))
        return precision.log_softmax(logits, spec.quant_cfg["softmax"]).exp().cpu().numpy()

    return probs


def loaded(spec: RunSpec) -> Loaded:
    """The trained model and its test split for `tradeoffs.runtimes` (training images calibrate
    static int8 quantisation)."""
    device, model, test = _trained(spec, spec.dataset)
    precision.freeze_weights(model)

    def calibration() -> torch.Tensor:
        return _trained(spec, spec.dataset, "train")[2].x[: torch_runtimes.CALIBRATION_SIZE]

    return Loaded(
        model,
        test.x,
        test.y.cpu().numpy(),
        lambda name: torch_runtimes.build(
            name, model, test.x, calibration, device, sync_for(device)
        ),
        lambda x, index: x[torch.from_numpy(index).to(x.device)],
    )


def _bench_batch(data: Split, size: int) -> torch.Tensor:
    """`size` test images (cycled when the test split is smaller)."""
    idx = torch.arange(size, device=data.x.device) % len(data)
    return data.x[idx]


def _device_runs(spec: RunSpec, device: torch.device) -> dict[str, Any]:
    """(e4m3) the FP8 matrix products where the GPU has them, then one throughput batch's
    inference on a GPU, whose memory `benchmark` reads."""
    _, model, data = _trained(spec, spec.dataset)
    batch = _bench_batch(data, spec.throughput_batch)
    fp8 = {}
    if spec.precision == "e4m3":
        fp8 = benchmark_fp8(model, batch, spec.bench_cfg["warmup"], spec.bench_cfg["repeats"])
    if device.type != "cpu":
        precision.freeze_weights(model)
        autocast = make_autocast(TrainSettings.of(spec), device)
        reset_peak_vram(device)
        with torch.inference_mode(), autocast():
            model(batch)
        sync_for(device)()
    return fp8


def benchmark(spec: RunSpec) -> dict:
    """bench/eager.json's device facts: the device, the GPU memory one throughput batch takes
    and (e4m3) the FP8 matrix products. The model's own facts (sizes, FLOPs) are train.json's;
    the timing keys come from the sweep (`tradeoffs.runtimes.bench`), which times the model as
    every runtime is timed. A CPU run that is not e4m3 reads no model here: the CPU has no
    device memory to read."""
    device = configure(spec)
    needs_model = device.type != "cpu" or spec.precision == "e4m3"
    return {
        **(_device_runs(spec, device) if needs_model else {}),
        **measured("bench_peak_vram_mb", peak_vram_mb(device), NO_DEVICE_MEMORY),
        "bench_device_name": device_name(device),
    }
