"""Training throughput of numba against torch on seed 004's CNN: same process, same data, same
threads, batch 512. Prints the ratio numba/torch; below 1.0 (or with --profile) also the time
of each layer's forward and backward in both.

    python benchmarks/numba_vs_torch.py [--device cpu|cuda] [--threads 2] [--steps 8]

Epochs of the two alternate (`--rounds` times) and the medians are compared, so load from other
processes hits both alike.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numba
import numpy as np
import torch
import torch.nn.functional as F
from numba import njit, prange

from tradeoffs.measure.timing import time_calls
from tradeoffs.models.numba import cpu, cpu_layers, layout
from tradeoffs.models.torch.mnist_cnn import MnistCNN

CLASSES = 10


def _numba_model(device: str, theta: np.ndarray, norm: layout.Norm, batch: int):
    if device == "cuda":
        from tradeoffs.models.numba.cuda import CudaModel

        return CudaModel(theta, CLASSES, norm, batch)
    return cpu.CpuModel(theta, CLASSES, norm)


def throughputs(device: str, batch: int, steps: int, rounds: int) -> tuple[float, float]:
    """Median samples/s of numba and of torch over alternating epochs of `steps` batches."""
    rng = np.random.default_rng(0)
    n = batch * steps
    images = rng.integers(0, 256, (n, 28, 28, 1), dtype=np.uint8)
    labels = rng.integers(0, CLASSES, n)
    theta = layout.initial_params(0, CLASSES)
    norm = layout.Norm.of(images)
    model = _numba_model(device, theta, norm, batch)
    xs, ys = model.resident(images), model.resident(labels)
    reference = MnistCNN(CLASSES).to(device)
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.01, momentum=0.9)
    x_t = torch.from_numpy(images).to(device).permute(0, 3, 1, 2)
    y_t = torch.from_numpy(labels).to(device)

    def numba_epoch() -> None:
        model.train_epoch(xs, ys, np.arange(n), batch, 0.01, 0.9)  # returns after a host copy

    def torch_epoch() -> None:
        for start in range(0, n, batch):
            optimizer.zero_grad()
            x = (x_t[start : start + batch].float() / 255 - norm.mean) / norm.std
            logits = reference(x)
            F.cross_entropy(logits, y_t[start : start + batch]).backward()
            optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()

    numba_epoch(), torch_epoch()  # compile, warm up
    times: dict[str, list[float]] = {"numba": [], "torch": []}
    for _ in range(rounds):
        for name, epoch in (("numba", numba_epoch), ("torch", torch_epoch)):
            start = time.perf_counter()
            epoch()
            times[name].append(time.perf_counter() - start)
    return n / statistics.median(times["numba"]), n / statistics.median(times["torch"])


# Per-layer profile (CPU): each numba kernel over the batch in a prange loop, per-thread outputs.
@njit(parallel=True)
def _conv1_fwd(x, w, b, out):
    for s in prange(x.shape[0]):
        cpu.conv1_forward(x[s], w, b, out[s])


@njit(parallel=True)
def _conv2_fwd(x, w, b, out):
    for s in prange(x.shape[0]):
        cpu.conv2_forward(x[s], w, b, out[s])


@njit(parallel=True)
def _pool_fwd(a, out, arg):
    for s in prange(a.shape[0]):
        cpu_layers.relu_pool_forward(a[s], out[s], arg[s])


@njit(parallel=True)
def _pool_bwd(d, arg, da):
    for s in prange(d.shape[0]):
        cpu_layers.relu_pool_backward(d[s], arg[s], da[s])


@njit(parallel=True)
def _dense_fwd(x, w, b, out):
    for s in prange(x.shape[0]):
        cpu_layers.dense_forward(x[s], w, b, out[s], True)


@njit(parallel=True)
def _dense_bwd(x, w, d, gw, gb, dx):
    n, chunks = x.shape[0], gw.shape[0]
    for s in prange(n):
        cpu_layers.dense_backward_params(x[s], d[s], gw[s * chunks // n], gb[s * chunks // n])
        cpu_layers.dense_backward_input(x[s], w, d[s], dx[s])


@njit(parallel=True)
def _conv2_bwd(x, w, d, gw, gb, dx):
    n, chunks = x.shape[0], gw.shape[0]
    for s in prange(n):
        cpu.conv2_backward_params(x[s], d[s], gw[s * chunks // n], gb[s * chunks // n])
        cpu.conv2_backward_input(w, d[s], dx[s])


@njit(parallel=True)
def _conv1_bwd(x, d, gw, gb):
    n, chunks = x.shape[0], gw.shape[0]
    for s in prange(n):
        cpu.conv1_backward_params(x[s], d[s], gw[s * chunks // n], gb[s * chunks // n])


def numba_layer_times(batch: int) -> dict[str, float]:
    """Milliseconds per batch of each numba layer, forward and backward."""
    rng = np.random.default_rng(0)

    def r(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(np.float32)

    def relu(*shape: int) -> np.ndarray:
        return np.maximum(r(*shape), 0)

    def g(*shape: int) -> np.ndarray:  # per-thread gradient accumulators
        return np.zeros((cpu.CHUNKS, *shape), np.float32)

    arg1 = rng.integers(-1, 4, (batch, 13, 13, 8)).astype(np.int8)
    arg2 = rng.integers(-1, 4, (batch, 5, 5, 16)).astype(np.int8)
    x1, a1, p1 = r(batch, 28, 28, 1), r(batch, 26, 26, 8), relu(batch, 13, 13, 8)
    a2, f, h = r(batch, 11, 11, 16), relu(batch, 400), relu(batch, 128)
    w1, w2, w3, w4 = r(3, 3, 1, 8), r(3, 3, 8, 16), r(400, 128), r(128, 10)
    cases = [
        ("conv1 fwd", _conv1_fwd, (x1, w1, r(8), a1)),
        ("pool1 fwd", _pool_fwd, (a1, r(batch, 13, 13, 8), arg1.copy())),
        ("conv2 fwd", _conv2_fwd, (p1, w2, r(16), a2)),
        ("pool2 fwd", _pool_fwd, (a2, r(batch, 5, 5, 16), arg2.copy())),
        ("fc1 fwd", _dense_fwd, (f, w3, r(128), h.copy())),
        ("fc2 fwd", _dense_fwd, (h, w4, r(10), r(batch, 10))),
        ("fc2 bwd", _dense_bwd, (h, w4, r(batch, 10), g(128, 10), g(10), r(batch, 128))),
        ("fc1 bwd", _dense_bwd, (f, w3, r(batch, 128), g(400, 128), g(128), r(batch, 400))),
        ("pool2 bwd", _pool_bwd, (r(batch, 5, 5, 16), arg2, a2.copy())),
        ("conv2 bwd", _conv2_bwd, (p1, w2, a2, g(3, 3, 8, 16), g(16), r(batch, 13, 13, 8))),
        ("pool1 bwd", _pool_bwd, (r(batch, 13, 13, 8), arg1, a1.copy())),
        ("conv1 bwd", _conv1_bwd, (x1, a1, g(3, 3, 1, 8), g(8))),
    ]
    return {name: _median_ms(fn, *args) for name, fn, args in cases}


def _median_ms(fn: Callable[..., object], *args: object) -> float:
    return time_calls(lambda: fn(*args), warmup=1, repeats=5).p50_ms


def _torch_backward(out: torch.Tensor, inputs: list[torch.Tensor]) -> Callable[[], object]:
    grad = torch.randn_like(out)
    return lambda: torch.autograd.grad(out, inputs, grad, retain_graph=True)


def torch_layer_times(batch: int) -> dict[str, float]:
    """Milliseconds per batch of each torch layer, forward and backward (autograd.grad)."""
    net = MnistCNN(CLASSES)
    layers = {
        "conv1": (net.conv1, (batch, 1, 28, 28)),
        "pool1": (lambda x: net.pool1(F.relu(x)), (batch, 8, 26, 26)),
        "conv2": (net.conv2, (batch, 8, 13, 13)),
        "pool2": (lambda x: net.pool2(F.relu(x)), (batch, 16, 11, 11)),
        "fc1": (lambda x: F.relu(net.fc1(x)), (batch, 400)),
        "fc2": (net.fc2, (batch, 128)),
    }
    params = {
        "conv1": [*net.conv1.parameters()],
        "conv2": [*net.conv2.parameters()],
        "fc1": [*net.fc1.parameters()],
        "fc2": [*net.fc2.parameters()],
    }
    times = {}
    for name, (layer, shape) in layers.items():
        x = torch.randn(shape, requires_grad=name != "conv1")  # conv1's input needs no grad
        times[f"{name} fwd"] = _median_ms(layer, x)
        inputs = ([x] if x.requires_grad else []) + params.get(name, [])
        times[f"{name} bwd"] = _median_ms(_torch_backward(layer(x), inputs))
    return {name: times[name] for name in numba_names()}


def numba_names() -> list[str]:
    layers = ("conv1", "pool1", "conv2", "pool2", "fc1", "fc2")
    return [f"{layer} fwd" for layer in layers] + [f"{layer} bwd" for layer in reversed(layers)]


def print_profile(batch: int) -> None:
    ours, theirs = numba_layer_times(batch), torch_layer_times(batch)
    print(f"\nper-layer time per batch of {batch} (ms, median of 5)")
    print(f"{'layer':<10}{'numba':>9}{'torch':>9}")
    for name in ours:
        print(f"{name:<10}{ours[name]:>9.2f}{theirs[name]:>9.2f}")
    print(f"{'total':<10}{sum(ours.values()):>9.2f}{sum(theirs.values()):>9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=8, help="batches per timed epoch")
    parser.add_argument("--rounds", type=int, default=5, help="alternating timed epochs")
    parser.add_argument("--profile", action="store_true", help="per-layer times even at >= 1")
    args = parser.parse_args()
    if args.device == "cuda" and not (torch.cuda.is_available() and numba.cuda.is_available()):
        raise SystemExit("skipped: no CUDA device visible to both numba and torch")
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    torch.set_num_threads(args.threads)
    ours, theirs = throughputs(args.device, args.batch_size, args.steps, args.rounds)
    print(f"device {args.device}, threads {args.threads}, batch {args.batch_size}")
    print(f"numba-{args.device}: {ours:.0f} samples/s, torch-{args.device}: {theirs:.0f} samples/s")
    print(f"ratio numba/torch: {ours / theirs:.2f}")
    if args.device == "cpu" and (ours < theirs or args.profile):
        print_profile(args.batch_size)


if __name__ == "__main__":
    main()
