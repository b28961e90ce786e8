"""CUDA kernels of seed 004's CNN: float32, CHW per sample (n, C, H, W), the CPU kernels'
parameter layouts (`layout`).

The convolutions are tiled through shared memory: one block per sample (forward, input
gradient) stages the sample's input planes and the kernel once, and its threads read both
from there instead of from global memory nine times per channel. The input gradient is the
forward kernel run on the output gradient zero-padded by 2 (the padding applied while staging)
with the flipped, transposed kernel. A weight gradient is one block per (chunk, cout, cin)
whose threads each sum a strided share of the chunk's positions into nine accumulators and
reduce them in shared memory in a fixed order.

Weight gradients are written per chunk of the batch into grads[chunk, offset + index] and summed
by the SGD kernel, so no kernel needs atomics and a step's result does not depend on thread
scheduling. `n` is the batch's active size: buffers are allocated for the full batch size, the
last batch of an epoch may be shorter.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda, float32

from tradeoffs.models.numba.layout import A2, C1, C2

NO_ARG = -1
THREADS = 128
TILE = C2 * (A2 + 4) * (A2 + 4)  # largest staged input: conv2's padded output gradient
TILE_W = C2 * C1 * 9  # largest kernel: conv2's


def launch(kernel, total: int, *args) -> None:
    """Run `kernel` with at least `total` threads, THREADS per block."""
    kernel[max(1, math.ceil(total / THREADS)), THREADS](*args)


@cuda.jit
def load_images(images, order, start, n, scale, shift, x):
    """x[s, 0] = images[order[start + s]] * scale + shift, as float32 (`layout.Norm`)."""
    t = cuda.grid(1)
    h, w = x.shape[2], x.shape[3]
    if t < n * h * w:
        s, p = t // (h * w), t % (h * w)
        i, j = p // w, p % w
        x[s, 0, i, j] = np.float32(images[order[start + s], i, j, 0]) * scale + shift


@cuda.jit
def conv_forward(x, w, b, pad, flip, out):
    """Valid 3x3 cross-correlation of x (n, Ci, H, W), zero-padded by `pad`, with w: (Co, Ci, 3,
    3), or with flip, w (Ci, Co, 3, 3) flipped and transposed. Block s: sample s; out (n, Co,
    H + 2 pad - 2, W + 2 pad - 2)."""
    tile = cuda.shared.array(TILE, float32)
    kern = cuda.shared.array(TILE_W, float32)
    s, tid, step = cuda.blockIdx.x, cuda.threadIdx.x, cuda.blockDim.x
    cin, cout, size = x.shape[1], out.shape[1], out.shape[2]
    rows, cols = x.shape[2] + 2 * pad, x.shape[3] + 2 * pad
    for t in range(tid, cin * rows * cols, step):
        ci, i, j = t // (rows * cols), (t // cols) % rows, t % cols
        inside = pad <= i < rows - pad and pad <= j < cols - pad
        tile[t] = x[s, ci, i - pad, j - pad] if inside else np.float32(0)
    for t in range(tid, cout * cin * 9, step):
        co, ci, k = t // (cin * 9), (t // 9) % cin, t % 9
        kern[t] = w[ci, co, 2 - k // 3, 2 - k % 3] if flip else w[co, ci, k // 3, k % 3]
    cuda.syncthreads()
    for t in range(tid, cout * size * size, step):
        co, i, j = t // (size * size), (t // size) % size, t % size
        acc = b[co]
        for ci in range(cin):
            base, kb = ci * rows * cols + i * cols + j, (co * cin + ci) * 9
            for ki in range(3):
                for kj in range(3):
                    acc += tile[base + ki * cols + kj] * kern[kb + ki * 3 + kj]
        out[s, co, i, j] = acc


@cuda.jit
def relu_pool_forward(a, n, out, arg):
    """out = max(0, 2x2 window max of a); arg = window position of the first max or NO_ARG."""
    t = cuda.grid(1)
    c_n, size = out.shape[1], out.shape[2]
    if t < n * c_n * size * size:
        pj = t % size
        pi = (t // size) % size
        c = (t // (size * size)) % c_n
        s = t // (c_n * size * size)
        best = a[s, c, 2 * pi, 2 * pj]
        k = 0
        for d in range(1, 4):
            v = a[s, c, 2 * pi + d // 2, 2 * pj + d % 2]
            if v > best:
                best = v
                k = d
        out[s, c, pi, pj] = best if best > 0 else np.float32(0)
        arg[s, c, pi, pj] = k if best > 0 else NO_ARG


@cuda.jit
def dense_forward(x, w, b, n, relu, out):
    """out (n, O) = x (n, K) @ w (K, O) + b, then ReLU if asked."""
    t = cuda.grid(1)
    n_out = out.shape[1]
    if t < n * n_out:
        s, o = t // n_out, t % n_out
        acc = b[o]
        for k in range(x.shape[1]):
            acc += x[s, k] * w[k, o]
        out[s, o] = max(acc, np.float32(0)) if relu else acc


@cuda.jit
def softmax_xent(z, labels, order, start, n, scale, dz, losses, hits):
    """Per sample: cross-entropy into losses[start + s], top-1 hit into hits[start + s], and
    dz = scale * (softmax - onehot)."""
    s = cuda.grid(1)
    if s < n:
        label = labels[order[start + s]]
        top = 0
        for c in range(1, z.shape[1]):
            if z[s, c] > z[s, top]:
                top = c
        m = z[s, top]
        total = np.float32(0)
        for c in range(z.shape[1]):
            total += math.exp(z[s, c] - m)
        for c in range(z.shape[1]):
            dz[s, c] = scale * (math.exp(z[s, c] - m) / total)
        dz[s, label] -= scale
        losses[start + s] = m + math.log(total) - z[s, label]
        hits[start + s] = 1 if top == label else 0


@cuda.jit
def dense_backward_params(x, d, n, grads, w_off, b_off):
    """grads[chunk] at w_off (K, O) and b_off (O): the chunk's sum of x^T d and of d."""
    t = cuda.grid(1)
    k_n, o_n, chunks = x.shape[1], d.shape[1], grads.shape[0]
    if t < chunks * (k_n + 1) * o_n:
        o = t % o_n
        k = (t // o_n) % (k_n + 1)  # k == k_n: the bias
        chunk = t // (o_n * (k_n + 1))
        acc = np.float32(0)
        for s in range(chunk * n // chunks, (chunk + 1) * n // chunks):
            acc += (x[s, k] if k < k_n else np.float32(1)) * d[s, o]
        grads[chunk, (w_off + k * o_n + o) if k < k_n else (b_off + o)] = acc


@cuda.jit
def dense_backward_input(x, w, d, n, dx):
    """dx = d @ w^T, masked by x > 0 (every dense input here is a ReLU output)."""
    t = cuda.grid(1)
    k_n = x.shape[1]
    if t < n * k_n:
        s, k = t // k_n, t % k_n
        acc = np.float32(0)
        if x[s, k] > 0:
            for o in range(d.shape[1]):
                acc += w[k, o] * d[s, o]
        dx[s, k] = acc


@cuda.jit
def relu_pool_backward(dout, arg, n, da):
    """da (n, C, H, W): the pooled gradient at each window's max, zero elsewhere."""
    t = cuda.grid(1)
    c_n, h, p = da.shape[1], da.shape[2], dout.shape[2]
    if t < n * c_n * h * h:
        j = t % h
        i = (t // h) % h
        c = (t // (h * h)) % c_n
        s = t // (c_n * h * h)
        pi, pj = i // 2, j // 2
        value = np.float32(0)
        if pi < p and pj < p and arg[s, c, pi, pj] == (i % 2) * 2 + j % 2:
            value = dout[s, c, pi, pj]
        da[s, c, i, j] = value


@cuda.jit
def conv_backward_params(x, dout, n, grads, w_off, b_off):
    """grads[chunk] at w_off (Co, Ci, 3, 3) and b_off (Co): the chunk's weight and bias sums.
    Block (chunk, co, ci), ci == Ci for the bias; THREADS threads per block."""
    part = cuda.shared.array((9, THREADS), float32)
    cin, cout, size, chunks = x.shape[1], dout.shape[1], dout.shape[2], grads.shape[0]
    per_chunk = cout * (cin + 1)
    chunk, r = cuda.blockIdx.x // per_chunk, cuda.blockIdx.x % per_chunk
    co, ci = r // (cin + 1), r % (cin + 1)
    tid = cuda.threadIdx.x
    acc = cuda.local.array(9, float32)
    for k in range(9):
        acc[k] = 0
    lo, hi = chunk * n // chunks, (chunk + 1) * n // chunks
    area = size * size
    for t in range(tid, (hi - lo) * area, THREADS):
        s, i, j = lo + t // area, (t // size) % size, t % size
        g = dout[s, co, i, j]
        if ci == cin:
            acc[0] += g
        else:
            for k in range(9):
                acc[k] += g * x[s, ci, i + k // 3, j + k % 3]
    for k in range(9):
        part[k, tid] = acc[k]
    cuda.syncthreads()
    half = THREADS // 2
    while half > 0:
        if tid < half:
            for k in range(9):
                part[k, tid] += part[k, tid + half]
        cuda.syncthreads()
        half //= 2
    if tid == 0:
        if ci == cin:
            grads[chunk, b_off + co] = part[0, 0]
        else:
            for k in range(9):
                grads[chunk, w_off + (co * cin + ci) * 9 + k] = part[k, 0]


def conv_backward_params_blocks(chunks: int, cin: int, cout: int) -> int:
    """`conv_backward_params`'s grid size."""
    return chunks * cout * (cin + 1)


@cuda.jit
def sgd(theta, velocity, grads, lr, momentum):
    """Sum the chunks' gradients; torch's SGD with momentum: v = mu*v + g, w -= lr*v."""
    p = cuda.grid(1)
    if p < theta.shape[0]:
        total = np.float32(0)
        for c in range(grads.shape[0]):
            total += grads[c, p]
        velocity[p] = momentum * velocity[p] + total
        theta[p] -= lr * velocity[p]
