"""numba against torch on seed 004's CNN: training throughput at one batch size, inference
throughput at several, and the time of each layer's forward and backward in both, all in one
process on the same data and threads.

    python benchmarks/numba_vs_torch.py [--device cpu|cuda] [--threads 2] [--batch-size 512]
        [--infer-batches 1 64 512] [--compile-times]

Every comparison alternates the two (epochs, inference calls, layer calls) and compares medians,
so load from other processes hits both alike. --compile-times also runs one training step and
one inference in two fresh processes sharing an empty numba cache: the first compiles the
kernels (cold), the second loads them from the cache.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numba
import numpy as np
import torch
import torch.nn.functional as F
from numba import njit, prange

from tradeoffs.models.numba import cpu, cpu_layers, layout
from tradeoffs.models.numba.layout import A1, A2, C1, C2, FEATURES, HIDDEN, IMAGE, P1, P2
from tradeoffs.models.torch.mnist_cnn import MnistCNN

CLASSES = 10
INFER_BATCHES = (1, 64, 512)  # latency, the default run's benchmark batch, the paper's


def _numba_model(device: str, theta: np.ndarray, norm: layout.Norm, batch: int):
    if device == "cuda":
        from tradeoffs.models.numba.cuda import CudaModel

        return CudaModel(theta, CLASSES, norm, batch)
    return cpu.CpuModel(theta, CLASSES, norm)


def _alternate(
    first: Callable[[], object], second: Callable[[], object], rounds: int
) -> tuple[float, float]:
    """Median seconds of `first` and of `second`, called alternately `rounds` times each after
    one untimed call of both."""
    first(), second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for fn, record in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            fn()
            record.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def _data(n: int) -> tuple[np.ndarray, np.ndarray, layout.Norm]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, IMAGE, IMAGE, 1), dtype=np.uint8)
    return images, rng.integers(0, CLASSES, n), layout.Norm.of(images)


def training(device: str, batch: int, steps: int, rounds: int) -> tuple[float, float]:
    """Samples/s of numba and of torch, from the medians of alternating epochs of `steps`
    batches (SGD with momentum, as the engines)."""
    n = batch * steps
    images, labels, norm = _data(n)
    model = _numba_model(device, layout.initial_params(0, CLASSES), norm, batch)
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

    ours, theirs = _alternate(numba_epoch, torch_epoch, rounds)
    return n / ours, n / theirs


def inference(device: str, batch: int, rounds: int) -> tuple[float, float]:
    """Samples/s of numba's and torch's logits of one batch, as the engines' benchmarks time
    them: numba from resident uint8 images (standardised as they are loaded), torch from a
    standardised float tensor under inference_mode."""
    images, _, norm = _data(batch)
    model = _numba_model(device, layout.initial_params(0, CLASSES), norm, batch)
    reference = MnistCNN(CLASSES).to(device).eval()
    xs = model.resident(images)
    x_t = torch.from_numpy(images).to(device).permute(0, 3, 1, 2).float()
    x_t = ((x_t / 255 - norm.mean) / norm.std).contiguous()
    if device == "cuda":
        from numba import cuda

        def numba_call() -> None:
            model.logits_device(xs)
            cuda.synchronize()
    else:
        out = np.empty((batch, CLASSES), np.float32)

        def numba_call() -> None:
            model.logits(xs, out)

    @torch.inference_mode()
    def torch_call() -> None:
        reference(x_t)
        if device == "cuda":
            torch.cuda.synchronize()

    ours, theirs = _alternate(numba_call, torch_call, rounds)
    return batch / ours, batch / theirs


# Per-layer profile (CPU): each numba kernel over the batch in a prange loop, per-sample
# buffers, per-chunk gradient accumulators, as in `cpu._gradients`.
@njit(parallel=True)
def _conv1_fwd(x, w, b, out):
    for s in prange(x.shape[0]):
        cpu_layers.conv1_forward(x[s], w, b, out[s])


@njit(parallel=True)
def _pool1_fwd(a, out, arg):
    for s in prange(a.shape[0]):
        cpu_layers.pool1_forward(a[s], out[s], arg[s])


@njit(parallel=True)
def _conv2_fwd(x, w, b, out):
    for s in prange(x.shape[0]):
        cpu_layers.conv2_forward(x[s], w, b, out[s])


@njit(parallel=True)
def _pool2_fwd(a, out, arg):
    for s in prange(a.shape[0]):
        cpu_layers.pool2_forward(a[s], out[s], arg[s])


@njit(parallel=True)
def _dense_fwd(x, w, b, out):
    for s in prange(x.shape[0]):
        cpu_layers.dense_forward(x[s], w, b, out[s], True)


@njit(parallel=True)
def _dense_bwd(x, w, d, gw, gb, dx):
    n, chunks = x.shape[0], gw.shape[0]
    for c in prange(chunks):
        for s in range(c * n // chunks, (c + 1) * n // chunks):
            cpu_layers.dense_backward_params(x[s], d[s], gw[c], gb[c])
            cpu_layers.dense_backward_input(x[s], w, d[s], dx[s])


@njit(parallel=True)
def _pool2_bwd(d, arg, da, dfull):
    for s in prange(d.shape[0]):
        cpu_layers.pool2_backward(d[s], arg[s], da[s], dfull[s])


@njit(parallel=True)
def _conv2_bwd(x, w, da, dfull, gw, gb, flipped, zero_bias, dx):
    n, chunks = x.shape[0], gw.shape[0]
    cpu_layers.flip_transpose(w, flipped)
    for c in prange(chunks):
        for s in range(c * n // chunks, (c + 1) * n // chunks):
            cpu_layers.conv2_params_grad(x[s], da[s], gw[c], gb[c])
            cpu_layers.conv2_input_grad(dfull[s], flipped, zero_bias, dx[s])


@njit(parallel=True)
def _pool1_bwd(d, arg, da):
    for s in prange(d.shape[0]):
        cpu_layers.pool1_backward(d[s], arg[s], da[s])


@njit(parallel=True)
def _conv1_bwd(x, da, gw, gb):
    n, chunks = x.shape[0], gw.shape[0]
    for c in prange(chunks):
        for s in range(c * n // chunks, (c + 1) * n // chunks):
            cpu_layers.conv1_params_grad(x[s], da[s], gw[c], gb[c])


def numba_layers(batch: int) -> dict[str, Callable[[], object]]:
    """One call per numba layer, forward and backward, over a batch of random activations."""
    rng = np.random.default_rng(0)

    def r(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(np.float32)

    def relu(*shape: int) -> np.ndarray:
        return np.maximum(r(*shape), 0)

    def g(*shape: int) -> np.ndarray:  # per-chunk gradient accumulators
        return np.zeros((cpu.CHUNKS, *shape), np.float32)

    pad, full = cpu.PAD, cpu_layers.FULL
    arg1 = rng.integers(-1, 4, (batch, C1, P1 * P1)).astype(np.int8)
    arg2 = rng.integers(-1, 4, (batch, C2, P2 * P2)).astype(np.int8)
    x1, a1 = r(batch, 1, IMAGE * IMAGE + pad), r(batch, C1, A1 * IMAGE)
    p1, a2 = relu(batch, C1, P1 * P1 + pad), r(batch, C2, A2 * P1)
    f, h = relu(batch, FEATURES), relu(batch, HIDDEN)
    w1, w2 = r(C1, 1, 3, 3), r(C2, C1, 3, 3)
    w3, w4 = r(FEATURES, HIDDEN), r(HIDDEN, CLASSES)
    flipped, zeros = np.zeros((C1, C2, 3, 3), np.float32), np.zeros(C1, np.float32)
    cases = {
        "conv1 fwd": (_conv1_fwd, (x1, w1, r(C1), a1)),
        "pool1 fwd": (_pool1_fwd, (a1, r(batch, C1, P1 * P1 + pad), arg1.copy())),
        "conv2 fwd": (_conv2_fwd, (p1, w2, r(C2), a2)),
        "pool2 fwd": (_pool2_fwd, (a2, r(batch, C2, P2 * P2), arg2.copy())),
        "fc1 fwd": (_dense_fwd, (f, w3, r(HIDDEN), h.copy())),
        "fc2 fwd": (_dense_fwd, (h, w4, r(CLASSES), r(batch, CLASSES))),
        "fc2 bwd": (_dense_bwd, (h, w4, r(batch, CLASSES), g(HIDDEN, CLASSES), g(CLASSES), h)),
        "fc1 bwd": (_dense_bwd, (f, w3, r(batch, HIDDEN), g(FEATURES, HIDDEN), g(HIDDEN), f)),
        "pool2 bwd": (
            _pool2_bwd,
            (
                r(batch, C2, P2 * P2),
                arg2,
                a2.copy(),
                np.zeros((batch, C2, full * full + pad), np.float32),
            ),
        ),
        "conv2 bwd": (
            _conv2_bwd,
            (p1, w2, a2, r(batch, C2, full * full + pad), g(C2, C1, 3, 3), g(C2), flipped, zeros)
            + (r(batch, C1, P1 * full),),
        ),
        "pool1 bwd": (_pool1_bwd, (r(batch, C1, P1 * full), arg1, a1.copy())),
        "conv1 bwd": (_conv1_bwd, (x1, a1, g(C1, 1, 3, 3), g(C1))),
    }
    for fn, args in cases.values():  # compile outside the timing
        fn(*args)
    return {name: (lambda fn=fn, args=args: fn(*args)) for name, (fn, args) in cases.items()}


def _torch_backward(out: torch.Tensor, inputs: list[torch.Tensor]) -> Callable[[], object]:
    grad = torch.randn_like(out)
    return lambda: torch.autograd.grad(out, inputs, grad, retain_graph=True)


def torch_layers(batch: int) -> dict[str, Callable[[], object]]:
    """One call per torch layer, forward and backward (autograd.grad)."""
    net = MnistCNN(CLASSES)
    layers = {
        "conv1": (net.conv1, (batch, 1, 28, 28)),
        "pool1": (lambda x: net.pool1(F.relu(x)), (batch, 8, 26, 26)),
        "conv2": (net.conv2, (batch, 8, 13, 13)),
        "pool2": (lambda x: net.pool2(F.relu(x)), (batch, 16, 11, 11)),
        "fc1": (lambda x: F.relu(net.fc1(x)), (batch, 400)),
        "fc2": (net.fc2, (batch, 128)),
    }
    params = {name: [*getattr(net, name).parameters()] for name in ("conv1", "conv2", "fc1", "fc2")}
    calls = {}
    for name, (layer, shape) in layers.items():
        x = torch.randn(shape, requires_grad=name != "conv1")  # conv1's input needs no grad
        calls[f"{name} fwd"] = lambda layer=layer, x=x: layer(x)
        inputs = ([x] if x.requires_grad else []) + params.get(name, [])
        calls[f"{name} bwd"] = _torch_backward(layer(x), inputs)
    return calls


def print_profile(batch: int, rounds: int) -> None:
    ours, theirs = numba_layers(batch), torch_layers(batch)
    print(f"\nper-layer time per batch of {batch} (ms, median of {rounds}, alternating)")
    print(f"{'layer':<10}{'numba':>9}{'torch':>9}")
    totals = [0.0, 0.0]
    for name, call in ours.items():
        a, b = _alternate(call, theirs[name], rounds)
        totals[0], totals[1] = totals[0] + a * 1e3, totals[1] + b * 1e3
        print(f"{name:<10}{a * 1e3:>9.2f}{b * 1e3:>9.2f}")
    print(f"{'total':<10}{totals[0]:>9.2f}{totals[1]:>9.2f}")


_COMPILE = """
import time
start = time.perf_counter()
import numpy as np
from tradeoffs.models.numba import cpu, layout
norm = layout.Norm(0.13, 0.31)
model = cpu.CpuModel(np.zeros(layout.param_count(10), np.float32), 10, norm)
images = np.zeros((4, 28, 28, 1), np.uint8)
model.train_epoch(images, np.zeros(4, np.int64), np.arange(4), 4, 0.01, 0.9)
model.logits(images)
print(time.perf_counter() - start)
"""


def compile_times() -> tuple[float, float]:
    """Seconds to import, compile (cold, empty cache) or load (cached) the numba-cpu kernels and
    run one step and one inference, each in a fresh process."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        runs = [
            subprocess.run(
                [sys.executable, "-c", _COMPILE],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            for _ in range(2)
        ]
    cold, cached = (float(run.stdout.split()[-1]) for run in runs)
    return cold, cached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=512, help="training batch")
    parser.add_argument("--infer-batches", type=int, nargs="+", default=list(INFER_BATCHES))
    parser.add_argument("--steps", type=int, default=8, help="batches per timed epoch")
    parser.add_argument("--rounds", type=int, default=5, help="alternating timed epochs")
    parser.add_argument("--calls", type=int, default=21, help="alternating inference calls")
    parser.add_argument("--compile-times", action="store_true", help="cold and cached compile")
    args = parser.parse_args()
    if args.device == "cuda" and not (torch.cuda.is_available() and numba.cuda.is_available()):
        raise SystemExit("skipped: no CUDA device visible to both numba and torch")
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    torch.set_num_threads(args.threads)
    dev = args.device
    print(f"device {dev}, threads {args.threads}, load average {os.getloadavg()[0]:.2f}")
    ours, theirs = training(dev, args.batch_size, args.steps, args.rounds)
    print(
        f"training, batch {args.batch_size}: numba-{dev} {ours:.0f} samples/s, torch-{dev} "
        f"{theirs:.0f} samples/s, ratio numba/torch {ours / theirs:.2f}"
    )
    for batch in args.infer_batches:
        ours, theirs = inference(dev, batch, args.calls)
        print(
            f"inference, batch {batch}: numba-{dev} {ours:.0f} samples/s, torch-{dev} "
            f"{theirs:.0f} samples/s, ratio numba/torch {ours / theirs:.2f}"
        )
    if dev == "cpu":
        print_profile(args.batch_size, args.calls)
        if args.compile_times:
            cold, cached = compile_times()
            print(
                f"\nnumba-cpu import + compile + first step: cold {cold:.1f}s, cached {cached:.1f}s"
            )
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
