"""CUDA kernels of seed 004's CNN: one thread per output element, float32, HWC per sample.

The layouts are the CPU kernels' (`layout`). Weight gradients are written per chunk of the
batch into grads[chunk, offset + index] and summed by the SGD kernel, so no kernel needs atomics
and a step's result does not depend on thread scheduling. `n` is the batch's active size:
buffers are allocated for the full batch size, the last batch of an epoch may be shorter.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda

NO_ARG = -1
THREADS = 128


def launch(kernel, total: int, *args) -> None:
    """Run `kernel` with at least `total` threads, THREADS per block."""
    kernel[max(1, math.ceil(total / THREADS)), THREADS](*args)


@cuda.jit
def load_images(images, order, start, n, scale, shift, x):
    """x[s] = images[order[start + s]] * scale + shift, as float32 (`layout.Norm`)."""
    t = cuda.grid(1)
    per = x.shape[1] * x.shape[2]
    if t < n * per:
        s, p = t // per, t % per
        i, j = p // x.shape[2], p % x.shape[2]
        x[s, i, j, 0] = np.float32(images[order[start + s], i, j, 0]) * scale + shift


@cuda.jit
def conv_forward(x, w, b, n, out):
    """Valid 3x3 convolution: x (n, H, W, Ci), w (3, 3, Ci, Co) -> out (n, H-2, W-2, Co)."""
    t = cuda.grid(1)
    size, cout, cin = out.shape[1], out.shape[3], x.shape[3]
    if t < n * size * size * cout:
        co = t % cout
        j = (t // cout) % size
        i = (t // (cout * size)) % size
        s = t // (cout * size * size)
        acc = b[co]
        for ki in range(3):
            for kj in range(3):
                for ci in range(cin):
                    acc += x[s, i + ki, j + kj, ci] * w[ki, kj, ci, co]
        out[s, i, j, co] = acc


@cuda.jit
def relu_pool_forward(a, n, out, arg):
    """out = max(0, 2x2 window max of a); arg = window position of the first max or NO_ARG."""
    t = cuda.grid(1)
    size, c_n = out.shape[1], out.shape[3]
    if t < n * size * size * c_n:
        c = t % c_n
        pj = (t // c_n) % size
        pi = (t // (c_n * size)) % size
        s = t // (c_n * size * size)
        best = a[s, 2 * pi, 2 * pj, c]
        k = 0
        for d in range(1, 4):
            v = a[s, 2 * pi + d // 2, 2 * pj + d % 2, c]
            if v > best:
                best = v
                k = d
        out[s, pi, pj, c] = best if best > 0 else np.float32(0)
        arg[s, pi, pj, c] = k if best > 0 else NO_ARG


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
    """da (n, H, W, C): the pooled gradient at each window's max, zero elsewhere."""
    t = cuda.grid(1)
    h, c_n, p = da.shape[1], da.shape[3], dout.shape[1]
    if t < n * h * h * c_n:
        c = t % c_n
        j = (t // c_n) % h
        i = (t // (c_n * h)) % h
        s = t // (c_n * h * h)
        pi, pj = i // 2, j // 2
        value = np.float32(0)
        if pi < p and pj < p and arg[s, pi, pj, c] == (i % 2) * 2 + j % 2:
            value = dout[s, pi, pj, c]
        da[s, i, j, c] = value


@cuda.jit
def conv_backward_params(x, dout, n, grads, w_off, b_off):
    """grads[chunk] at w_off (3, 3, Ci, Co) and b_off (Co): the chunk's weight and bias sums."""
    t = cuda.grid(1)
    cin, cout, size, chunks = x.shape[3], dout.shape[3], dout.shape[1], grads.shape[0]
    per_chunk = (9 * cin + 1) * cout
    if t < chunks * per_chunk:
        chunk, r = t // per_chunk, t % per_chunk
        co, q = r % cout, r // cout  # q == 9 * cin: the bias
        ci, kj, ki = q % cin, (q // cin) % 3, q // (3 * cin)
        acc = np.float32(0)
        for s in range(chunk * n // chunks, (chunk + 1) * n // chunks):
            for i in range(size):
                for j in range(size):
                    v = x[s, i + ki, j + kj, ci] if q < 9 * cin else np.float32(1)
                    acc += v * dout[s, i, j, co]
        grads[chunk, (w_off + q * cout + co) if q < 9 * cin else (b_off + co)] = acc


@cuda.jit
def conv_backward_input(w, dout, n, dx):
    """dx (n, H, W, Ci): transposed 3x3 convolution of dout (n, H-2, W-2, Co) with w."""
    t = cuda.grid(1)
    h, cin, cout, size = dx.shape[1], dx.shape[3], dout.shape[3], dout.shape[1]
    if t < n * h * h * cin:
        ci = t % cin
        xj = (t // cin) % h
        xi = (t // (cin * h)) % h
        s = t // (cin * h * h)
        acc = np.float32(0)
        for ki in range(3):
            i = xi - ki
            if 0 <= i < size:
                for kj in range(3):
                    j = xj - kj
                    if 0 <= j < size:
                        for co in range(cout):
                            acc += w[ki, kj, ci, co] * dout[s, i, j, co]
        dx[s, xi, xj, ci] = acc


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
