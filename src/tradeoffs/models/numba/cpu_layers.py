"""Forward and backward of each layer for one sample, compiled with numba (float32, CHW).

Every function writes into buffers it is given and allocates nothing. Feature maps are channel
planes stored with "wide rows": a plane of `rows` rows is `rows * width` floats with the row
stride `width` of the convolution's input, so output element m = i * width + j reads input
m + ki * width + kj. Each convolution tap is then one unit-stride sweep over the whole plane,
which LLVM vectorises; the last two columns of every output row are junk (never read as
activations) and a plane buffer has two spare floats at its end for the junk columns' reads.
Gradient planes keep zeros in their junk columns, so sums over a whole plane are exact.

Inner loops index scalars, never take array views: a view costs two atomic reference-count
updates, which threads sharing the weights would contend on.

FASTMATH allows reassociation (vectorised dot products), contraction to FMA, no signed zeros and
reciprocals, but not `nnan`/`ninf`: a diverged loss must still read as non-finite.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeoffs.models.numba.layout import A1, A2, IMAGE, P1, P2

FASTMATH = {"reassoc", "contract", "nsz", "arcp"}
FULL = A2 + 4  # conv2's output gradient zero-padded by 2: its input gradient is a valid conv
NO_ARG = -1  # pool window whose max was <= 0: ReLU zeroed it, no gradient flows
kernel = njit(fastmath=FASTMATH, cache=True)
# Generic kernels are inlined into per-layer ones that pass the sizes as compile-time
# constants: with constant bounds LLVM proves the indices non-negative, drops numba's
# negative-index wraparound and vectorises with plain loads instead of gathers.
inline = njit(fastmath=FASTMATH, inline="always")


@kernel
def load_image(image: np.ndarray, scale: np.float32, shift: np.float32, x: np.ndarray) -> None:
    """uint8 (H, W, 1) -> float32 plane x[0, i * W + j] = pixel * scale + shift (`layout.Norm`)."""
    width = image.shape[1]
    for i in range(image.shape[0]):
        for j in range(width):
            x[0, i * width + j] = np.float32(image[i, j, 0]) * scale + shift


@inline
def conv3x3(x: np.ndarray, w: np.ndarray, b: np.ndarray, width: int, length: int, out: np.ndarray):
    """Valid 3x3 cross-correlation (torch's conv2d) on wide rows: x (cin, >= length + 2 * width
    + 2), w (cout, cin, 3, 3), cout even -> out[co, m] = b[co] + sum w[co, ci, ki, kj] x[ci, m +
    ki * width + kj] for m < length. Two output channels share each sweep over an input plane
    and its nine loads; each output vector is loaded and stored once per input channel."""
    w2 = width + width
    for co in range(0, w.shape[0], 2):
        for m in range(length):
            out[co, m] = b[co]
            out[co + 1, m] = b[co + 1]
        for ci in range(w.shape[1]):
            k0, k1, k2 = w[co, ci, 0, 0], w[co, ci, 0, 1], w[co, ci, 0, 2]
            k3, k4, k5 = w[co, ci, 1, 0], w[co, ci, 1, 1], w[co, ci, 1, 2]
            k6, k7, k8 = w[co, ci, 2, 0], w[co, ci, 2, 1], w[co, ci, 2, 2]
            j0, j1, j2 = w[co + 1, ci, 0, 0], w[co + 1, ci, 0, 1], w[co + 1, ci, 0, 2]
            j3, j4, j5 = w[co + 1, ci, 1, 0], w[co + 1, ci, 1, 1], w[co + 1, ci, 1, 2]
            j6, j7, j8 = w[co + 1, ci, 2, 0], w[co + 1, ci, 2, 1], w[co + 1, ci, 2, 2]
            for m in range(length):
                x0, x1, x2 = x[ci, m], x[ci, m + 1], x[ci, m + 2]
                x3, x4, x5 = x[ci, m + width], x[ci, m + width + 1], x[ci, m + width + 2]
                x6, x7, x8 = x[ci, m + w2], x[ci, m + w2 + 1], x[ci, m + w2 + 2]
                out[co, m] += (
                    k0 * x0 + k1 * x1 + k2 * x2 + k3 * x3 + k4 * x4 + k5 * x5 + k6 * x6 + k7 * x7
                ) + k8 * x8
                out[co + 1, m] += (
                    j0 * x0 + j1 * x1 + j2 * x2 + j3 * x3 + j4 * x4 + j5 * x5 + j6 * x6 + j7 * x7
                ) + j8 * x8


@inline
def conv3x3_params_grad(
    x: np.ndarray, d: np.ndarray, width: int, length: int, gw: np.ndarray, gb: np.ndarray
) -> None:
    """Accumulate one sample's gradients of `conv3x3`'s weights and bias from d = dL/dout
    (cout, >= length, zeros in the junk columns): gw[co, ci, ki, kj] += sum_m d[co, m] *
    x[ci, m + ki * width + kj]. Nine independent accumulators per (co, ci) pair share each load
    of d, so the loop vectorises without a dependency chain through memory."""
    w2 = width + width
    for co in range(d.shape[0]):
        total = np.float32(0)
        for m in range(length):
            total += d[co, m]
        gb[co] += total
        for ci in range(x.shape[0]):
            s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = s8 = np.float32(0)
            for m in range(length):
                v = d[co, m]
                s0 += v * x[ci, m]
                s1 += v * x[ci, m + 1]
                s2 += v * x[ci, m + 2]
                s3 += v * x[ci, m + width]
                s4 += v * x[ci, m + width + 1]
                s5 += v * x[ci, m + width + 2]
                s6 += v * x[ci, m + w2]
                s7 += v * x[ci, m + w2 + 1]
                s8 += v * x[ci, m + w2 + 2]
            gw[co, ci, 0, 0] += s0
            gw[co, ci, 0, 1] += s1
            gw[co, ci, 0, 2] += s2
            gw[co, ci, 1, 0] += s3
            gw[co, ci, 1, 1] += s4
            gw[co, ci, 1, 2] += s5
            gw[co, ci, 2, 0] += s6
            gw[co, ci, 2, 1] += s7
            gw[co, ci, 2, 2] += s8


@kernel
def flip_transpose(w: np.ndarray, out: np.ndarray) -> None:
    """out[ci, co, ki, kj] = w[co, ci, 2 - ki, 2 - kj]: the kernel that makes the input gradient
    of a valid convolution a valid convolution (`conv3x3`) of the zero-padded output gradient."""
    for co in range(w.shape[0]):
        for ci in range(w.shape[1]):
            for ki in range(3):
                for kj in range(3):
                    out[ci, co, ki, kj] = w[co, ci, 2 - ki, 2 - kj]


@inline
def relu_pool_forward(
    a: np.ndarray, width: int, size: int, out: np.ndarray, out_width: int, arg: np.ndarray
) -> None:
    """maxpool 2x2 of relu(a) (equal to relu of the max) over planes of row stride `width` into
    out[c, pi * out_width + pj] for pi, pj < size; arg[c, pi * size + pj] keeps the window
    position (0..3, first max as torch) or NO_ARG when the max is <= 0. Branch-free, so the
    loop over a row of windows vectorises."""
    for c in range(a.shape[0]):
        for pi in range(size):
            row = 2 * pi * width
            for pj in range(size):
                t = row + 2 * pj
                v1, v2, v3 = a[c, t + 1], a[c, t + width], a[c, t + width + 1]
                best, k = a[c, t], np.int8(0)
                k = np.int8(1) if v1 > best else k
                best = v1 if v1 > best else best
                k = np.int8(2) if v2 > best else k
                best = v2 if v2 > best else best
                k = np.int8(3) if v3 > best else k
                best = v3 if v3 > best else best
                out[c, pi * out_width + pj] = best if best > 0 else np.float32(0)
                arg[c, pi * size + pj] = k if best > 0 else np.int8(NO_ARG)


@inline
def relu_pool_backward(
    d: np.ndarray, d_width: int, arg: np.ndarray, size: int, da: np.ndarray, width: int, pad: int
) -> None:
    """Route d[c, pi * d_width + pj] to its window's max, through the ReLU, in planes of row
    stride `width` offset by `pad` rows and columns. Every position of every window is written
    (the gradient or 0); the ones outside all windows keep the zeros they were allocated with."""
    zero = np.float32(0)
    for c in range(d.shape[0]):
        for pi in range(size):
            row = (2 * pi + pad) * width + pad
            for pj in range(size):
                g = d[c, pi * d_width + pj]
                k = arg[c, pi * size + pj]
                t = row + 2 * pj
                da[c, t] = g if k == 0 else zero
                da[c, t + 1] = g if k == 1 else zero
                da[c, t + width] = g if k == 2 else zero
                da[c, t + width + 1] = g if k == 3 else zero


@kernel
def dense_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, out: np.ndarray, relu: bool) -> None:
    """out = x @ w + b (w is (in, out)), then ReLU if asked. Zero inputs (ReLU'd) are skipped."""
    n_out = out.shape[0]
    for o in range(n_out):
        out[o] = b[o]
    for k in range(x.shape[0]):
        v = x[k]
        if v != 0:
            for o in range(n_out):
                out[o] += v * w[k, o]
    if relu:
        for o in range(n_out):
            out[o] = max(out[o], np.float32(0))


@kernel
def dense_backward_params(x: np.ndarray, dout: np.ndarray, gw: np.ndarray, gb: np.ndarray) -> None:
    """Accumulate one sample's weight and bias gradients of a dense layer."""
    n_out = dout.shape[0]
    for o in range(n_out):
        gb[o] += dout[o]
    for k in range(x.shape[0]):
        v = x[k]
        if v != 0:
            for o in range(n_out):
                gw[k, o] += v * dout[o]


@kernel
def dense_backward_input(x: np.ndarray, w: np.ndarray, dout: np.ndarray, dx: np.ndarray) -> None:
    """dx = w @ dout, masked by x > 0: every dense input here is a ReLU output."""
    for k in range(x.shape[0]):
        total = np.float32(0)
        if x[k] > 0:
            for o in range(dout.shape[0]):
                total += w[k, o] * dout[o]
        dx[k] = total


@kernel
def softmax_xent(z: np.ndarray, label: int, scale: float, dz: np.ndarray) -> tuple[float, bool]:
    """Cross-entropy of logits `z` against `label`; dz = scale * (softmax - onehot). Returns the
    loss and whether the first arg-max is the label (torch's argmax)."""
    top = 0
    for c in range(1, z.shape[0]):
        if z[c] > z[top]:
            top = c
    m = z[top]
    total = np.float32(0)
    for c in range(z.shape[0]):
        dz[c] = np.exp(z[c] - m)
        total += dz[c]
    for c in range(z.shape[0]):
        dz[c] = scale * (dz[c] / total)
    dz[label] -= scale
    return m + np.log(total) - z[label], top == label


@kernel
def conv1_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    conv3x3(x, w, b, IMAGE, A1 * IMAGE, out)


@kernel
def conv2_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    conv3x3(x, w, b, P1, A2 * P1, out)


@kernel
def conv2_input_grad(dfull: np.ndarray, flipped: np.ndarray, zeros: np.ndarray, dx: np.ndarray):
    """conv2's input gradient (row stride FULL): its output gradient zero-padded by 2 (row stride
    FULL) convolved with the flipped kernel (`flip_transpose`); `zeros` is C1 zeros."""
    conv3x3(dfull, flipped, zeros, FULL, P1 * FULL, dx)


@kernel
def conv1_params_grad(x: np.ndarray, d: np.ndarray, gw: np.ndarray, gb: np.ndarray) -> None:
    conv3x3_params_grad(x, d, IMAGE, A1 * IMAGE, gw, gb)


@kernel
def conv2_params_grad(x: np.ndarray, d: np.ndarray, gw: np.ndarray, gb: np.ndarray) -> None:
    conv3x3_params_grad(x, d, P1, A2 * P1, gw, gb)


@kernel
def pool1_forward(a: np.ndarray, out: np.ndarray, arg: np.ndarray) -> None:
    relu_pool_forward(a, IMAGE, P1, out, P1, arg)


@kernel
def pool2_forward(a: np.ndarray, out: np.ndarray, arg: np.ndarray) -> None:
    relu_pool_forward(a, P1, P2, out, P2, arg)


@kernel
def pool1_backward(d: np.ndarray, arg: np.ndarray, da: np.ndarray) -> None:
    """pool1's input gradient (row stride IMAGE) from conv2's input gradient (row stride FULL)."""
    relu_pool_backward(d, FULL, arg, P1, da, IMAGE, 0)


@kernel
def pool2_backward(d: np.ndarray, arg: np.ndarray, da: np.ndarray, dfull: np.ndarray) -> None:
    """pool2's input gradient twice: row stride P1 for conv2's weight gradient, and zero-padded
    by 2 with row stride FULL for its input gradient."""
    relu_pool_backward(d, P2, arg, P2, da, P1, 0)
    relu_pool_backward(d, P2, arg, P2, dfull, FULL, 2)
