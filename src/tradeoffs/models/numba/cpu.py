"""numba-cpu: seed 004's CNN trained with batch-parallel `prange` loops.

One training step is two parallel loops. The first splits the batch into `chunks` contiguous
slices; each slice runs forward, loss and backward sample by sample in its own scratch buffers
(all of one sample's activations stay in cache) and sums its gradients into its own row of
`grads`. The second sums the rows and applies SGD with momentum (torch: v = mu*v + g,
w -= lr*v). The number of chunks is fixed, not the thread count, so the result does not depend
on how many threads run it. Buffers are allocated once, with the model: the kernels allocate
nothing, a step's only allocations are the parallel loops' launch, whatever the batch size.

Per sample, the backward runs the convolutions as convolutions (`cpu_layers`): conv2's input
gradient is the forward kernel applied to its zero-padded output gradient with the flipped
kernel (flipped once per step), the weight gradients are plane-wide dot products.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from tradeoffs.models.numba import layout
from tradeoffs.models.numba.cpu_layers import (
    FASTMATH,
    FULL,
    conv1_forward,
    conv1_params_grad,
    conv2_forward,
    conv2_input_grad,
    conv2_params_grad,
    dense_backward_input,
    dense_backward_params,
    dense_forward,
    flip_transpose,
    load_image,
    pool1_backward,
    pool1_forward,
    pool2_backward,
    pool2_forward,
    softmax_xent,
)
from tradeoffs.models.numba.layout import A1, A2, C1, C2, FEATURES, HIDDEN, IMAGE, P1, P2

CHUNKS = 16
PAD = 2  # spare floats after each plane for the junk columns' reads (`cpu_layers`)
parallel = njit(parallel=True, fastmath=FASTMATH, cache=True)
serial = njit(fastmath=FASTMATH, cache=True)


@serial
def _views(flat: np.ndarray, offs: np.ndarray, classes: int) -> tuple:
    """The eight parameters (or gradients) of a flat vector, in kernel layout."""
    return (
        flat[offs[0] : offs[1]].reshape((C1, 1, 3, 3)),
        flat[offs[1] : offs[2]],
        flat[offs[2] : offs[3]].reshape((C2, C1, 3, 3)),
        flat[offs[3] : offs[4]],
        flat[offs[4] : offs[5]].reshape((FEATURES, HIDDEN)),
        flat[offs[5] : offs[6]],
        flat[offs[6] : offs[7]].reshape((HIDDEN, classes)),
        flat[offs[7] : offs[8]],
    )


class Scratch:
    """One sample's activations and gradients, one set per chunk (float32 unless noted), as
    wide-row channel planes (`cpu_layers`). Zero-filled once: the pads, junk columns and the
    padded border of `dfull` are never written and must stay zero."""

    def __init__(self, chunks: int, classes: int) -> None:
        def buf(*shape: int, dtype: type = np.float32) -> np.ndarray:
            return np.zeros((chunks, *shape), dtype=dtype)

        self.x = buf(1, IMAGE * IMAGE + PAD)
        self.a1, self.p1, self.arg1 = (
            buf(C1, A1 * IMAGE),
            buf(C1, P1 * P1 + PAD),
            buf(C1, P1 * P1, dtype=np.int8),
        )
        self.a2, self.p2, self.arg2 = (
            buf(C2, A2 * P1),
            buf(C2, P2 * P2),
            buf(C2, P2 * P2, dtype=np.int8),
        )
        self.h, self.z, self.dz, self.dh = buf(HIDDEN), buf(classes), buf(classes), buf(HIDDEN)
        self.df = buf(C2, P2 * P2)
        self.da1, self.da2 = buf(C1, A1 * IMAGE), buf(C2, A2 * P1)  # dL/da1, dL/da2
        self.dfull = buf(C2, FULL * FULL + PAD)  # dL/da2, zero-padded by 2
        self.dp1 = buf(C1, P1 * FULL)  # conv2's input gradient, row stride FULL

    def arrays(self) -> tuple:
        return (self.x, self.a1, self.p1, self.arg1, self.a2, self.p2, self.arg2, self.h, self.z)

    def grads(self) -> tuple:
        return (self.dz, self.dh, self.df, self.da1, self.da2, self.dfull, self.dp1)


@serial
def _forward(image, affine, params, s):
    """Forward of one image, standardised as pixel * affine[0] + affine[1] (`layout.Norm`), into
    one chunk's scratch `s`; returns the logits' buffer."""
    w1, b1, w2, b2, w3, b3, w4, b4 = params
    x, a1, p1, arg1, a2, p2, arg2, h, z = s
    load_image(image, affine[0], affine[1], x)
    conv1_forward(x, w1, b1, a1)
    pool1_forward(a1, p1, arg1)
    conv2_forward(p1, w2, b2, a2)
    pool2_forward(a2, p2, arg2)
    dense_forward(p2.reshape(FEATURES), w3, b3, h, True)
    dense_forward(h, w4, b4, z, False)
    return z


@serial
def _backward(params, flipped, zero_bias, grads, s, g):
    """Backward of one chunk's sample from dz (in g), accumulating into `grads`."""
    _, _, _, _, w3, _, w4, _ = params
    gw1, gb1, gw2, gb2, gw3, gb3, gw4, gb4 = grads
    x, _, p1, arg1, _, p2, arg2, h, _ = s
    dz, dh, df, da1, da2, dfull, dp1 = g
    f = p2.reshape(FEATURES)
    dense_backward_params(h, dz, gw4, gb4)
    dense_backward_input(h, w4, dz, dh)
    dense_backward_params(f, dh, gw3, gb3)
    dense_backward_input(f, w3, dh, df.reshape(FEATURES))
    pool2_backward(df, arg2, da2, dfull)
    conv2_params_grad(p1, da2, gw2, gb2)
    conv2_input_grad(dfull, flipped, zero_bias, dp1)
    pool1_backward(dp1, arg1, da1)
    conv1_params_grad(x, da1, gw1, gb1)


@serial
def _chunk(arrays: tuple, c: int) -> tuple:
    """Chunk c's buffers (views taken once per chunk, not per sample)."""
    x, a1, p1, arg1, a2, p2, arg2, h, z = arrays
    return (x[c], a1[c], p1[c], arg1[c], a2[c], p2[c], arg2[c], h[c], z[c])


@serial
def _chunk_grads(arrays: tuple, c: int) -> tuple:
    dz, dh, df, da1, da2, dfull, dp1 = arrays
    return (dz[c], dh[c], df[c], da1[c], da2[c], dfull[c], dp1[c])


@parallel
def _gradients(theta, offs, affine, images, labels, order, grads, stats, flipped, zero_bias, s, g):
    """Per-chunk gradients of the mean loss over the batch `images[order]` into grads[chunk],
    each chunk's summed loss and correct predictions into stats[chunk]. `flipped` takes conv2's
    flipped kernel; `zero_bias` is C1 zeros (the input gradient has no bias)."""
    n = order.shape[0]
    chunks = grads.shape[0]
    classes = s[8].shape[1]
    params = _views(theta, offs, classes)
    flip_transpose(params[2], flipped)
    scale = np.float32(1.0 / n)
    for c in prange(chunks):
        grads[c] = 0
        stats[c] = 0
        chunk_grads = _views(grads[c], offs, classes)
        sc, gc = _chunk(s, c), _chunk_grads(g, c)
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            k = order[i]
            z = _forward(images[k], affine, params, sc)
            loss, hit = softmax_xent(z, labels[k], scale, gc[0])
            stats[c, 0] += loss
            stats[c, 1] += hit
            _backward(params, flipped, zero_bias, chunk_grads, sc, gc)


@parallel
def _sgd(theta, velocity, grads, lr, momentum):
    for p in prange(theta.shape[0]):
        total = np.float32(0)
        for c in range(grads.shape[0]):
            total += grads[c, p]
        velocity[p] = momentum * velocity[p] + total
        theta[p] -= lr * velocity[p]


@parallel
def _logits(theta, offs, affine, images, out, s):
    """Logits of every image into out (N, classes), chunk by chunk in parallel."""
    n = images.shape[0]
    chunks = s[0].shape[0]
    params = _views(theta, offs, out.shape[1])
    for c in prange(chunks):
        sc = _chunk(s, c)
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            z = _forward(images[i], affine, params, sc)
            for k in range(z.size):  # not out[i] = z: its shape check's message compiles for 2 s
                out[i, k] = z[k]


class CpuModel:
    """Parameters, momentum and buffers of one run; images stay uint8 (N, 28, 28, 1) and are
    standardised by `norm` as they are loaded."""

    def __init__(
        self, theta: np.ndarray, num_classes: int, norm: layout.Norm, chunks: int = CHUNKS
    ) -> None:
        self.num_classes = num_classes
        self.affine = (norm.scale, norm.shift)  # float32 pixel * scale + shift
        self.theta = np.array(theta, dtype=np.float32)
        self.velocity = np.zeros_like(self.theta)
        self.offsets = layout.offsets(num_classes)
        self.grads = np.zeros((chunks, self.theta.size), dtype=np.float32)
        self.stats = np.zeros((chunks, 2), dtype=np.float64)  # summed loss, correct
        self._flipped = np.zeros((C1, C2, 3, 3), dtype=np.float32)
        self._zero_bias = np.zeros(C1, dtype=np.float32)
        self._scratch = Scratch(chunks, num_classes)

    def resident(self, array: np.ndarray) -> np.ndarray:
        """An array (images, labels) where the kernels read it: here, host memory."""
        return np.ascontiguousarray(array)

    def _batch(
        self, images: np.ndarray, labels: np.ndarray, order: np.ndarray
    ) -> tuple[float, int]:
        """Gradients of the batch images[order] into `grads`; its summed loss and hits."""
        s = self._scratch
        _gradients(
            self.theta,
            self.offsets,
            self.affine,
            images,
            labels,
            order,
            self.grads,
            self.stats,
            self._flipped,
            self._zero_bias,
            s.arrays(),
            s.grads(),
        )
        loss, correct = self.stats.sum(axis=0)
        return float(loss), int(correct)

    def gradients(self, images: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean loss of one batch and its gradient (flat, kernel layout); no update."""
        loss, _ = self._batch(images, labels, np.arange(len(images)))
        return loss / len(images), self.grads.sum(axis=0)

    def train_epoch(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        order: np.ndarray,
        batch_size: int,
        lr: float,
        momentum: float,
    ) -> tuple[float, float]:
        """One pass over images[order] in batches; returns the mean loss and the accuracy."""
        loss_sum, correct = 0.0, 0
        lr, momentum = np.float32(lr), np.float32(momentum)
        for start in range(0, len(order), batch_size):
            loss, hits = self._batch(images, labels, order[start : start + batch_size])
            _sgd(self.theta, self.velocity, self.grads, lr, momentum)
            loss_sum += loss
            correct += hits
        return loss_sum / len(order), correct / len(order)

    def logits(self, images: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Logits (N, classes) of resident images."""
        if out is None:
            out = np.empty((len(images), self.num_classes), dtype=np.float32)
        _logits(self.theta, self.offsets, self.affine, images, out, self._scratch.arrays())
        return out

    def params(self) -> np.ndarray:
        return self.theta.copy()
