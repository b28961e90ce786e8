"""numba-cpu against PyTorch: every layer, the whole step, SGD, and the numba engine against the
torch engine on one run (same weights, standardisation and batches)."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from numba_fixtures import RNG, close, digits_spec, rand

from tradeoffs import io
from tradeoffs.config import study_with_defaults
from tradeoffs.engines import load
from tradeoffs.engines.numba import modelfile
from tradeoffs.evaluation import Predictions
from tradeoffs.jobs.benchmark import measurements
from tradeoffs.models.numba import cpu, cpu_layers, layout
from tradeoffs.models.torch.mnist_cnn import MnistCNN
from tradeoffs.records.history import HISTORY_COLUMNS
from tradeoffs.runspec import RunSpec

numba_engine = load("numba")
torch_engine = load("torch")

NORM = layout.Norm(mean=0.13, std=0.31)


def torch_model(theta: np.ndarray, classes: int = 10) -> MnistCNN:
    model = MnistCNN(classes)
    state = {k: torch.from_numpy(v) for k, v in layout.to_torch(theta, classes).items()}
    model.load_state_dict(state)
    return model


def test_layout_round_trip_and_counts():
    theta = layout.initial_params(0, 10)
    model = MnistCNN(10)
    assert theta.size == layout.param_count(10) == sum(p.numel() for p in model.parameters())
    again = layout.from_torch(layout.to_torch(theta, 10))
    np.testing.assert_array_equal(again, theta)
    assert layout.macs(10) == 26 * 26 * 8 * 9 + 11 * 11 * 16 * 72 + 400 * 128 + 128 * 10


def wide(planes: np.ndarray, width: int, rows: int, pad: int = 0, spare: int = 2) -> np.ndarray:
    """(C, h, w) planes -> (C, rows * width + spare) wide-row planes, offset by `pad` rows and
    columns, zeros elsewhere (`cpu_layers`' layout)."""
    out = np.zeros((planes.shape[0], rows * width + spare), np.float32)
    view = out[:, : rows * width].reshape(-1, rows, width)
    view[:, pad : pad + planes.shape[1], pad : pad + planes.shape[2]] = planes
    return out


def narrow(planes: np.ndarray, width: int, rows: int, cols: int) -> np.ndarray:
    """The valid (C, rows, cols) part of wide-row planes."""
    return planes[:, : rows * width].reshape(-1, rows, width)[:, :, :cols]


@pytest.mark.parametrize(
    ("kernels", "cin", "cout", "size"),
    [
        ((cpu_layers.conv1_forward, cpu_layers.conv1_params_grad, None), 1, 8, 28),
        (
            (cpu_layers.conv2_forward, cpu_layers.conv2_params_grad, cpu_layers.conv2_input_grad),
            8,
            16,
            13,
        ),
    ],
    ids=["conv1", "conv2"],
)
def test_conv_forward_and_backward_as_convolutions(kernels, cin, cout, size):
    """Forward, weight gradient and (conv2's) input gradient, the valid convolution of the
    zero-padded output gradient with the flipped kernel, all against torch."""
    forward, params_grad, input_grad = kernels
    out_size, full = size - 2, size + 2
    x, w, b = rand(3, cin, size, size), rand(cout, cin, 3, 3), rand(cout)
    g = rand(3, cout, out_size, out_size)
    xt = torch.from_numpy(x).requires_grad_()
    wt, bt = torch.from_numpy(w).requires_grad_(), torch.from_numpy(b).requires_grad_()
    out_t = F.conv2d(xt, wt, bt)
    out_t.backward(torch.from_numpy(g))
    gw, gb, flipped = np.zeros_like(w), np.zeros_like(b), np.empty((cin, cout, 3, 3), np.float32)
    cpu_layers.flip_transpose(w, flipped)
    for s in range(3):
        xs = wide(x[s], size, size)
        out = np.zeros((cout, out_size * size), np.float32)
        forward(xs, w, b, out)
        close(narrow(out, size, out_size, out_size), out_t[s])
        params_grad(xs, wide(g[s], size, out_size, spare=0), gw, gb)
        if input_grad is not None:
            assert full == cpu_layers.FULL
            dx = np.zeros((cin, size * full), np.float32)
            input_grad(wide(g[s], full, full, pad=2), flipped, np.zeros(cin, np.float32), dx)
            close(narrow(dx, full, size, size), xt.grad[s])
    close(gw, wt.grad)
    close(gb, bt.grad)


@pytest.mark.parametrize(("size", "channels"), [(26, 8), (11, 16)], ids=["pool1", "pool2"])
def test_relu_pool_forward_backward(size, channels):
    """Pooling reads wide rows (conv's row stride size + 2); the gradient goes to wide-row planes
    (pool2's also to conv2's zero-padded one) whose positions outside every window (junk columns,
    an odd size's last row and column, the padding) stay zero."""
    a = rand(3, channels, size, size)
    pooled, width = size // 2, size + 2
    g = rand(3, channels, pooled, pooled)
    at = torch.from_numpy(a).requires_grad_()
    out_t = F.max_pool2d(F.relu(at), 2)
    out_t.backward(torch.from_numpy(g))
    arg = np.empty((channels, pooled * pooled), dtype=np.int8)
    for s in range(3):
        out = np.zeros((channels, pooled * pooled + (2 if pooled == 13 else 0)), np.float32)
        da = np.zeros((channels, size * width), np.float32)
        if size == 26:
            cpu_layers.pool1_forward(wide(a[s], width, size), out, arg)
            cpu_layers.pool1_backward(wide(g[s], cpu_layers.FULL, pooled, spare=0), arg, da)
        else:
            full = cpu_layers.FULL
            dfull = np.zeros((channels, full * full + 2), np.float32)
            cpu_layers.pool2_forward(wide(a[s], width, size), out, arg)
            cpu_layers.pool2_backward(wide(g[s], pooled, pooled, spare=0), arg, da, dfull)
            assert np.array_equal(dfull, wide(narrow(da, width, size, size), full, full, pad=2))
        close(narrow(out, pooled, pooled, pooled), out_t[s])
        close(narrow(da, width, size, size), at.grad[s])
        assert not narrow(da, width, size, width)[:, :, size:].any()


@pytest.mark.parametrize(("n_in", "n_out"), [(400, 128), (128, 10)])
def test_dense_forward_backward(n_in, n_out):
    x0, w, b, g = rand(3, n_in), rand(n_in, n_out), rand(n_out), rand(3, n_out)
    x0t = torch.from_numpy(x0).requires_grad_()
    wt, bt = torch.from_numpy(w).requires_grad_(), torch.from_numpy(b).requires_grad_()
    xt = F.relu(x0t)  # the layer's input is a ReLU output, as in the network
    out_t = xt @ wt + bt
    out_t.backward(torch.from_numpy(g))
    x = xt.detach().numpy()
    out, out_relu, dx = np.empty_like(g), np.empty_like(g), np.empty_like(x)
    gw, gb = np.zeros_like(w), np.zeros_like(b)
    for s in range(3):
        cpu_layers.dense_forward(x[s], w, b, out[s], False)
        cpu_layers.dense_forward(x[s], w, b, out_relu[s], True)
        cpu_layers.dense_backward_params(x[s], g[s], gw, gb)
        cpu_layers.dense_backward_input(x[s], w, g[s], dx[s])
    close(out, out_t)
    close(out_relu, F.relu(out_t))
    close(gw, wt.grad)
    close(gb, bt.grad)
    close(dx, x0t.grad)


def test_softmax_cross_entropy():
    z, labels = rand(5, 10) * 3, RNG.integers(0, 10, 5)
    zt = torch.from_numpy(z).requires_grad_()
    loss_t = F.cross_entropy(zt, torch.from_numpy(labels))
    loss_t.backward()
    dz = np.empty_like(z)
    losses = [cpu_layers.softmax_xent(z[s], labels[s], 1 / 5, dz[s])[0] for s in range(5)]
    close(np.sum(losses) / 5, loss_t)
    close(dz, zt.grad)


def batch(n: int) -> tuple[np.ndarray, np.ndarray]:
    return RNG.integers(0, 256, (n, 28, 28, 1), dtype=np.uint8), RNG.integers(0, 10, n)


def torch_input(x: np.ndarray) -> torch.Tensor:
    """uint8 NHWC -> float32 NCHW standardised by NORM, as the torch engine's `to_tensor`."""
    return (torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255 - NORM.mean) / NORM.std


def test_network_logits_loss_and_gradients():
    theta = layout.initial_params(0, 10)
    x, y = batch(37)  # not a multiple of the chunk count
    reference = torch_model(theta)
    logits_t = reference(torch_input(x))
    loss_t = F.cross_entropy(logits_t, torch.from_numpy(y))
    loss_t.backward()
    model = cpu.CpuModel(theta, 10, NORM)
    loss, grads = model.gradients(x, y)
    close(model.logits(x), logits_t)
    close(loss, loss_t)
    expected = layout.to_torch(
        layout.from_torch({k: p.grad.numpy() for k, p in reference.named_parameters()}), 10
    )
    for name, value in layout.to_torch(grads, 10).items():
        close(value, expected[name])


def test_sgd_momentum_steps_match_torch():
    theta = layout.initial_params(0, 10)
    x, y = batch(40)
    model = cpu.CpuModel(theta, 10, NORM)
    order = np.arange(40)
    model.train_epoch(x, y, order, 16, 0.05, 0.9)  # batches of 16, 16 and 8
    reference = torch_model(theta)
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.05, momentum=0.9)
    for start in range(0, 40, 16):
        optimizer.zero_grad()
        F.cross_entropy(
            reference(torch_input(x[start : start + 16])), torch.from_numpy(y[start : start + 16])
        ).backward()
        optimizer.step()
    expected = layout.from_torch({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    close(model.params(), expected)


def accuracy(prediction: Predictions) -> float:
    return float((prediction.probs.argmax(axis=1) == prediction.labels).mean())


def test_numba_and_torch_engines_see_the_same_run(tmp_path):
    """One spec on torch-cpu and numba-cpu: same initial weights, standardisation and batches
    (44 * 32 + 1 samples: both drop the lone last one), so the first epoch's mean loss agrees to
    float32 rounding."""
    train = {"epochs": 2, "limit_train": 44 * 32 + 1}
    specs = [digits_spec(tmp_path / b, b, **train) for b in ("torch-cpu", "numba-cpu")]
    torch_engine.train(specs[0])
    numba_engine.train(specs[1])
    torch_run, numba_run = (pd.read_csv(spec.run_dir / "history.csv") for spec in specs)
    assert numba_run.train_loss[0] == pytest.approx(torch_run.train_loss[0], rel=1e-4)
    assert abs(numba_run.test_acc.iloc[-1] - torch_run.test_acc.iloc[-1]) <= 0.02
    meta = torch.load(specs[0].model_path, weights_only=True)["meta"]
    with np.load(specs[1].model_path) as npz:
        assert npz["norm_mean"].tolist() == meta["norm_mean"]
        assert npz["norm_std"].tolist() == meta["norm_std"]
    predicted = accuracy(numba_engine.predict(specs[1], "digits"))
    assert predicted == pytest.approx(numba_run.test_acc.iloc[-1])


@pytest.mark.slow
def test_digits_training_writes_records(tmp_path, capsys):
    spec = digits_spec(tmp_path, epochs=8, batch_size=32, lr=0.01)
    numba_engine.train(spec)
    history = (spec.run_dir / "history.csv").read_text().splitlines()
    assert history[0].split(",") == list(HISTORY_COLUMNS)
    assert len(history) == 9
    assert capsys.readouterr().out.count("epoch ") == 8
    train_json = io.read_json(spec.run_dir / "train.json")
    assert train_json["status"] == "ok" and train_json["epochs_run"] == 8
    assert accuracy(numba_engine.predict(spec, "digits")) > 0.8
    assert train_json["params"] == layout.param_count(10)  # the model's facts
    assert train_json["macs"] == layout.macs(10) and train_json["flops"] == 2 * layout.macs(10)
    bench = measurements(spec, "eager")  # the engine's device facts and the sweep
    assert bench["status"] == "ok" and bench["agreement_top1"] == 1.0
    assert bench["bench_peak_vram_mb"] is None and bench["bench_device_name"]
    assert bench["infer_throughput_sps"] > 0 and bench["bench_batch_size"] == 32


_ALLOCATIONS = """
import numpy as np
from numba.core.runtime import rtsys
from tradeoffs.models.numba import cpu, layout

model = cpu.CpuModel(np.zeros(layout.param_count(10), np.float32), 10, layout.Norm(0.1, 0.3))
images, labels = np.zeros((128, 28, 28, 1), np.uint8), np.zeros(128, np.int64)
out = np.empty((128, 10), np.float32)


def allocations(call):
    call()  # compile or load
    before = rtsys.get_allocation_stats().alloc
    call()
    return rtsys.get_allocation_stats().alloc - before


for n in (16, 128):
    print(allocations(lambda: model.train_epoch(images, labels, np.arange(n), n, 0.01, 0.9)))
    print(allocations(lambda: model.logits(images[:n], out[:n])))
"""


@pytest.mark.slow
def test_training_step_allocates_nothing_per_sample():
    """numba's allocation counter over one training step and one inference at batch 16 and 128:
    equal counts, so no kernel allocates per sample or per chunk (what remains is the parallel
    loops' launch)."""
    env = {**os.environ, "NUMBA_NRT_STATS": "1"}
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", _ALLOCATIONS], env=env, capture_output=True, text=True, check=True
    )
    step_16, infer_16, step_128, infer_128 = map(int, result.stdout.split())
    assert step_16 == step_128 and infer_16 == infer_128
    assert step_128 < 64 and infer_128 < 64


def test_cuda_buffers_hold_every_batch_the_runtime_is_called_with(tmp_path, monkeypatch):
    """A numba-cuda call runs on device buffers of a fixed batch: loaded() sizes them for the
    check's batches (up to 256 test images) and the largest swept batch, not the throughput
    batch (the model itself is not built: no device is needed)."""
    spec = digits_spec(tmp_path, backend="numba-cuda", batch_size=32)
    monkeypatch.setattr(modelfile, "load", lambda spec: (None, 10, None))
    capacities = []

    def model(spec, theta, num_classes, norm, batch_size):
        capacities.append(batch_size)
        return types.SimpleNamespace(resident=None, logits_device=None)

    monkeypatch.setattr(modelfile, "build", model)
    numba_engine.loaded(spec)  # digits: 360 test images, checked in batches of 256
    bench = {"warmup": 1, "repeats": 3, "batch_size": 16, "batch_sizes": [512]}
    numba_engine.loaded(
        RunSpec(
            **{
                **spec.__dict__,
                "study_config": study_with_defaults({"train": spec.train_cfg, "benchmark": bench}),
            }
        )
    )
    assert capacities == [256, 512]
