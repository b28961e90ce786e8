"""Torch runtimes: eager, torch.compile (inductor), ONNX Runtime and int8 post-training
quantisation, each built from the trained model in eval mode."""

from __future__ import annotations

import contextlib
import copy
import io
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from tradeoffs.measure.timing import no_sync
from tradeoffs.runtimes.base import Runtime, UnsupportedError

CALIBRATION_BATCH = 64
CALIBRATION_SIZE = 512  # training images that set static int8's activation ranges
EXPORT_BATCH = 2  # torch.export specialises a dimension of size 1; a batch of 2 keeps it symbolic


def _numpy(out: torch.Tensor) -> np.ndarray:
    return out.detach().float().cpu().numpy()


def _inference(
    fn: Callable[[torch.Tensor], torch.Tensor],
) -> Callable[[torch.Tensor], torch.Tensor]:
    def call(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return fn(x)

    return call


def eager(model: nn.Module, sync: Callable[[], None]) -> Runtime:
    return Runtime("eager", lambda x: x, _inference(model), _numpy, sync)


def compiled(model: nn.Module, sync: Callable[[], None]) -> Runtime:
    """torch.compile with inductor. It compiles on the first call at each input shape; `place`
    makes that call, so compilation lands in `setup_s` and never in a timed call."""
    fn = _inference(torch.compile(model, backend="inductor", dynamic=False))
    runtime = Runtime("compile", lambda x: x, fn, _numpy, sync, detail="inductor")
    shapes: set[tuple[int, ...]] = set()

    def place(x: torch.Tensor) -> torch.Tensor:
        if x.shape in shapes:
            return x
        shapes.add(x.shape)
        start = time.perf_counter()
        try:
            fn(x)
        except Exception as error:  # inductor reports lowering failures as many error types
            raise UnsupportedError(f"torch.compile: {type(error).__name__}: {error}") from error
        runtime.sync()
        runtime.setup_s += time.perf_counter() - start
        return x

    runtime.place = place
    return runtime


def onnxruntime(model: nn.Module, sample: torch.Tensor, device: torch.device) -> Runtime:
    """Export with torch's (dynamo) ONNX exporter, a symbolic batch dimension, and run with ONNX
    Runtime: its CUDA provider on a GPU run, the CPU provider on a CPU run, with the run's
    threads. Inputs are host arrays (ONNX Runtime copies them to the GPU within each call)."""
    import onnxruntime as ort

    providers = ["CPUExecutionProvider"]
    if device.type == "cuda":
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise UnsupportedError(
                "onnxruntime has no CUDAExecutionProvider here (it comes with the "
                "onnxruntime-gpu package); timing the CPU provider on a GPU run would mislead"
            )
        providers = ["CUDAExecutionProvider", *providers]
    elif device.type != "cpu":
        raise UnsupportedError(f"onnxruntime has no provider for torch device {device.type!r}")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                program = torch.onnx.export(
                    model,
                    (sample[:EXPORT_BATCH].contiguous(),),
                    dynamo=True,
                    dynamic_shapes=({0: torch.export.Dim("batch", min=1)},),
                )
                program.save(str(path))
        except Exception as error:  # the exporter raises many types; its message is the reason
            raise UnsupportedError(f"torch.onnx.export: {type(error).__name__}: {error}") from error
        size_mb = sum(f.stat().st_size for f in Path(tmp).iterdir()) / 2**20
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=providers)
    name = session.get_inputs()[0].name
    return Runtime(
        "onnxruntime",
        lambda x: np.ascontiguousarray(x.detach().float().cpu().numpy()),
        lambda x: session.run(None, {name: x})[0],
        np.asarray,
        setup_s=time.perf_counter() - start,
        size_mb=size_mb,
        detail=session.get_providers()[0],
    )


@contextlib.contextmanager
def _quantized_ops_allowed() -> Iterator[None]:
    """torch flags its quantised kernels' output resize as nondeterministic and refuses them
    while the run's deterministic mode is on; on the CPU they are deterministic in practice.
    The debug-mode setter flips the flag alone: `use_deterministic_algorithms` also imports
    torch's compiler stack (once) and sets inductor's config (on every timed call)."""
    before = torch.get_deterministic_debug_mode()
    torch.set_deterministic_debug_mode("default")
    try:
        yield
    finally:
        torch.set_deterministic_debug_mode(before)


def _state_mb(model: nn.Module) -> float:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.tell() / 2**20


def _static_int8(model: nn.Module, calibration: torch.Tensor) -> nn.Module:
    """FX graph mode static quantisation (x86 backend, per-channel weights), calibrated on
    training images."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    prepared = prepare_fx(model, get_default_qconfig_mapping("x86"), (calibration[:1],))
    with torch.inference_mode():
        for start in range(0, len(calibration), CALIBRATION_BATCH):
            prepared(calibration[start : start + CALIBRATION_BATCH])
    return convert_fx(prepared)


def _dynamic_int8(model: nn.Module) -> nn.Module:
    """Dynamic quantisation of the Linear layers (int8 weights, activations quantised per
    call): what torch offers for a model FX cannot trace."""
    from torch.ao.quantization import quantize_dynamic

    if not any(isinstance(m, nn.Linear) for m in model.modules()):
        raise UnsupportedError("no Linear layer for dynamic int8 quantisation")
    return quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)


def int8(
    model: nn.Module, calibration: Callable[[], torch.Tensor], device: torch.device
) -> Runtime:
    """torch's post-training quantisation: static (FX) where the model traces, else dynamic
    (Linear layers only). torch's int8 kernels (fbgemm/x86) run on the CPU only."""
    if device.type != "cpu":
        raise UnsupportedError(f"torch's int8 kernels run on the CPU only; this run is on {device}")
    if any(parametrize.is_parametrized(m) for m in model.modules()):
        raise UnsupportedError(
            "the model carries training-time quantisers (a precision other than fp32); int8 "
            "post-training quantisation starts from an fp32 model"
        )
    torch.backends.quantized.engine = "x86"
    start = time.perf_counter()
    source = copy.deepcopy(model).to(memory_format=torch.contiguous_format)
    with warnings.catch_warnings(), _quantized_ops_allowed():
        warnings.simplefilter("ignore")  # torch.ao.quantization's deprecation notices
        try:
            quantised, detail = _static_int8(source, calibration().contiguous()), "static (FX, x86)"
        except Exception as static_error:  # FX tracing raises many types
            try:
                quantised, detail = _dynamic_int8(source), "dynamic (Linear layers)"
            except Exception as error:
                raise UnsupportedError(
                    f"static: {type(static_error).__name__}: {static_error}; "
                    f"dynamic: {type(error).__name__}: {error}"
                ) from error

    def call(x: torch.Tensor) -> torch.Tensor:
        with _quantized_ops_allowed(), torch.inference_mode():
            return quantised(x)

    return Runtime(
        "int8",
        lambda x: x.contiguous(),
        call,
        _numpy,
        setup_s=time.perf_counter() - start,
        size_mb=_state_mb(quantised),
        detail=detail,
    )


def build(
    name: str,
    model: nn.Module,
    images: torch.Tensor,
    calibration: Callable[[], torch.Tensor],
    device: torch.device,
    sync: Callable[[], None] = no_sync,
) -> Runtime:
    """Runtime `name` of `model` (eval mode, on `device`); `images` are test images as the
    engine feeds them, `calibration` loads training images for static quantisation, `sync`
    waits for `device` (the engine's; nothing on the CPU)."""
    if name == "eager":
        return eager(model, sync)
    if name == "compile":
        return compiled(model, sync)
    if name == "onnxruntime":
        return onnxruntime(model, images, device)
    if name == "int8":
        return int8(model, calibration, device)
    raise ValueError(f"unknown torch runtime {name!r}")
