"""Forward and backward of each layer for one sample, compiled with numba (float32, HWC).

Every function writes into buffers it is given and allocates nothing. Loop orders keep the
innermost loop over output channels or units, with unit stride, so LLVM vectorises it. Inner
loops index scalars, never take array views: a view costs two atomic reference-count updates,
which threads sharing the weights would contend on. `conv3x3` bakes the channel counts in as
compile-time constants (numba freezes closure variables), so its channel loops unroll into a
vector or two.

FASTMATH allows reassociation (vectorised dot products), contraction to FMA, no signed zeros and
reciprocals, but not `nnan`/`ninf`: a diverged loss must still read as non-finite.
"""

from __future__ import annotations

import numpy as np
from numba import njit

FASTMATH = {"reassoc", "contract", "nsz", "arcp"}
NO_ARG = -1  # pool window whose max was <= 0: ReLU zeroed it, no gradient flows
kernel = njit(fastmath=FASTMATH, cache=True)


@kernel
def load_image(image: np.ndarray, scale: np.float32, shift: np.float32, x: np.ndarray) -> None:
    """uint8 (H, W, 1) -> float32 standardised: pixel * scale + shift (`layout.Norm`)."""
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            x[i, j, 0] = np.float32(image[i, j, 0]) * scale + shift


def _compile(name: str, lines: list[str]):
    """A kernel from generated source lines (unrolled loops with constant indices)."""
    namespace: dict = {"np": np}
    exec(compile("\n".join(lines), f"<conv3x3 {name}>", "exec"), namespace)  # noqa: S102
    return njit(fastmath=FASTMATH)(namespace[name])


def conv3x3(cin: int, cout: int, size: int) -> tuple:
    """Valid 3x3 convolution (cross-correlation, as torch) of x (size+2, size+2, cin) with
    w (3, 3, cin, cout) into (size, size, cout): (forward, backward_params, backward_input).

    The forward is generated with its reduction
    unrolled into one expression per output element and a loop over output channels around it:
    LLVM then keeps the sums in vector registers (a loop writing `out[..] +=` round-trips
    memory, because it cannot prove `out` does not alias the weights) and vectorises across
    the channels."""
    taps = [(ki, kj, ci) for ki in range(3) for kj in range(3) for ci in range(cin)]
    forward = _compile(
        "forward",
        [
            "def forward(x, w, b, out):",
            f"    for i in range({size}):",
            f"        for j in range({size}):",
            f"            for co in range({cout}):",
            "                a = b[co]",
            *(
                f"                a += x[i + {ki}, j + {kj}, {ci}] * w[{ki}, {kj}, {ci}, co]"
                for ki, kj, ci in taps
            ),
            "                out[i, j, co] = a",
        ],
    )

    @kernel
    def backward_params(x, dout, gw, gb):
        """Accumulate one sample's weight and bias gradients."""
        for i in range(size):
            for j in range(size):
                for co in range(cout):
                    gb[co] += dout[i, j, co]
                for ki in range(3):
                    for kj in range(3):
                        for ci in range(cin):
                            v = x[i + ki, j + kj, ci]
                            if v != 0:
                                for co in range(cout):
                                    gw[ki, kj, ci, co] += v * dout[i, j, co]

    @kernel
    def backward_input(w, dout, dx):
        """dx = transposed convolution of dout with w."""
        dx[:] = 0
        for i in range(size):
            for j in range(size):
                for ki in range(3):
                    for kj in range(3):
                        for ci in range(cin):
                            total = np.float32(0)
                            for co in range(cout):
                                total += w[ki, kj, ci, co] * dout[i, j, co]
                            dx[i + ki, j + kj, ci] += total

    return forward, backward_params, backward_input


@kernel
def relu_pool_forward(a: np.ndarray, out: np.ndarray, arg: np.ndarray) -> None:
    """maxpool 2x2 of relu(a) (equal to relu of the max): out = max(0, window max); `arg` keeps
    the window position (0..3, first max as torch) or NO_ARG when the max is <= 0."""
    for pi in range(out.shape[0]):
        for pj in range(out.shape[1]):
            for c in range(out.shape[2]):
                best = a[2 * pi, 2 * pj, c]
                k = 0
                for d in range(1, 4):
                    v = a[2 * pi + d // 2, 2 * pj + d % 2, c]
                    if v > best:
                        best = v
                        k = d
                if best > 0:
                    out[pi, pj, c] = best
                    arg[pi, pj, c] = k
                else:
                    out[pi, pj, c] = 0
                    arg[pi, pj, c] = NO_ARG


@kernel
def relu_pool_backward(dout: np.ndarray, arg: np.ndarray, da: np.ndarray) -> None:
    """Route each pooled gradient to its window's max, through the ReLU; zeros elsewhere."""
    da[:] = 0
    for pi in range(dout.shape[0]):
        for pj in range(dout.shape[1]):
            for c in range(dout.shape[2]):
                k = arg[pi, pj, c]
                if k != NO_ARG:
                    da[2 * pi + k // 2, 2 * pj + k % 2, c] = dout[pi, pj, c]


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
