"""numba-cpu against PyTorch: every layer, the whole step, SGD, and the numba engine against the
torch engine on one run (same weights, standardisation and batches)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from numba_fixtures import RNG, close, digits_spec, hwc, rand

from tradeoffs.engines import load
from tradeoffs.evaluation import Predictions
from tradeoffs.models.numba import cpu, cpu_layers, layout
from tradeoffs.models.torch.mnist_cnn import MnistCNN

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


@pytest.mark.parametrize(
    ("kernels", "cin", "cout", "size"),
    [(cpu.conv1_forward, 1, 8, 26), (cpu.conv2_forward, 8, 16, 11)],
    ids=["conv1", "conv2"],
)
def test_conv_forward_backward(kernels, cin, cout, size):
    forward, backward_params, backward_input = cpu_layers.conv3x3(cin, cout, size)
    x, w, b = rand(3, size + 2, size + 2, cin), rand(3, 3, cin, cout), rand(cout)
    g = rand(3, size, size, cout)
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).requires_grad_()
    wt = torch.from_numpy(w).permute(3, 2, 0, 1).contiguous().requires_grad_()
    bt = torch.from_numpy(b).requires_grad_()
    out_t = F.conv2d(xt, wt, bt)
    out_t.backward(torch.from_numpy(g).permute(0, 3, 1, 2))
    out, dx = np.empty_like(g), np.empty_like(x)
    gw, gb = np.zeros_like(w), np.zeros_like(b)
    for s in range(3):
        forward(x[s], w, b, out[s])
        backward_params(x[s], g[s], gw, gb)
        backward_input(w, g[s], dx[s])
    close(out, hwc(out_t))
    close(gw, wt.grad.permute(2, 3, 1, 0))
    close(gb, bt.grad)
    close(dx, hwc(xt.grad))


@pytest.mark.parametrize(("size", "channels"), [(26, 8), (11, 16)])
def test_relu_pool_forward_backward(size, channels):
    a = rand(3, size, size, channels)
    pooled = size // 2
    g = rand(3, pooled, pooled, channels)
    at = torch.from_numpy(a).permute(0, 3, 1, 2).requires_grad_()
    out_t = F.max_pool2d(F.relu(at), 2)
    out_t.backward(torch.from_numpy(g).permute(0, 3, 1, 2))
    out, da = np.empty_like(g), np.empty_like(a)
    arg = np.empty(g.shape, dtype=np.int8)
    for s in range(3):
        cpu_layers.relu_pool_forward(a[s], out[s], arg[s])
        cpu_layers.relu_pool_backward(g[s], arg[s], da[s])
    close(out, hwc(out_t))
    close(da, hwc(at.grad))


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
    assert history[0].split(",") == list(numba_engine.records.HISTORY_COLUMNS)
    assert len(history) == 9
    assert capsys.readouterr().out.count("epoch ") == 8
    train_json = numba_engine.io.read_json(spec.run_dir / "train.json")
    assert train_json["status"] == "ok" and train_json["epochs_run"] == 8
    assert accuracy(numba_engine.predict(spec, "digits")) > 0.8
    bench = numba_engine.benchmark(spec)
    assert bench["params"] == layout.param_count(10) and bench["macs"] == layout.macs(10)
    assert bench["infer_throughput_sps"] > 0 and bench["bench_batch_size"] == 32
