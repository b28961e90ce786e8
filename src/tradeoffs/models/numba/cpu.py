"""numba-cpu: seed 004's CNN trained with batch-parallel `prange` loops.

One training step is two parallel loops. The first splits the batch into `chunks` contiguous
slices; each slice runs forward, loss and backward sample by sample in its own scratch buffers
(all of one sample's activations stay in cache) and sums its gradients into its own row of
`grads`. The second sums the rows and applies SGD with momentum (torch: v = mu*v + g,
w -= lr*v). The number of chunks is fixed, not the thread count, so the result does not depend
on how many threads run it. Buffers are allocated once per batch size, never inside a step.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from tradeoffs.models.numba import layout
from tradeoffs.models.numba.cpu_layers import (
    FASTMATH,
    conv3x3,
    dense_backward_input,
    dense_backward_params,
    dense_forward,
    load_image,
    relu_pool_backward,
    relu_pool_forward,
    softmax_xent,
)
from tradeoffs.models.numba.layout import A1, A2, C1, C2, FEATURES, HIDDEN, IMAGE, P1, P2

CHUNKS = 16
conv1_forward, conv1_backward_params, _ = conv3x3(1, C1, A1)
conv2_forward, conv2_backward_params, conv2_backward_input = conv3x3(C1, C2, A2)
parallel = njit(parallel=True, fastmath=FASTMATH, cache=True)
serial = njit(fastmath=FASTMATH, cache=True)


@serial
def _views(flat: np.ndarray, offs: np.ndarray, classes: int) -> tuple:
    """The eight parameters (or gradients) of a flat vector, in kernel layout."""
    return (
        flat[offs[0] : offs[1]].reshape((3, 3, 1, C1)),
        flat[offs[1] : offs[2]],
        flat[offs[2] : offs[3]].reshape((3, 3, C1, C2)),
        flat[offs[3] : offs[4]],
        flat[offs[4] : offs[5]].reshape((FEATURES, HIDDEN)),
        flat[offs[5] : offs[6]],
        flat[offs[6] : offs[7]].reshape((HIDDEN, classes)),
        flat[offs[7] : offs[8]],
    )


class Scratch:
    """One sample's activations and gradients, one set per chunk (float32 unless noted)."""

    def __init__(self, chunks: int, classes: int) -> None:
        def buf(*shape: int, dtype: type = np.float32) -> np.ndarray:
            return np.zeros((chunks, *shape), dtype=dtype)

        self.x = buf(IMAGE, IMAGE, 1)
        self.a1, self.p1, self.arg1 = (
            buf(A1, A1, C1),
            buf(P1, P1, C1),
            buf(P1, P1, C1, dtype=np.int8),
        )
        self.a2, self.p2, self.arg2 = (
            buf(A2, A2, C2),
            buf(P2, P2, C2),
            buf(P2, P2, C2, dtype=np.int8),
        )
        self.h, self.z, self.dz, self.dh = buf(HIDDEN), buf(classes), buf(classes), buf(HIDDEN)
        self.df, self.dp1 = buf(P2, P2, C2), buf(P1, P1, C1)

    def arrays(self) -> tuple:
        return (self.x, self.a1, self.p1, self.arg1, self.a2, self.p2, self.arg2, self.h, self.z)

    def grads(self) -> tuple:
        return (self.dz, self.dh, self.df, self.dp1)


@serial
def _forward(image, affine, params, s, c):
    """Forward of one image, standardised as pixel * affine[0] + affine[1] (`layout.Norm`), into
    chunk c's scratch; returns the logits' buffer."""
    w1, b1, w2, b2, w3, b3, w4, b4 = params
    x, a1, p1, arg1, a2, p2, arg2, h, z = s
    load_image(image, affine[0], affine[1], x[c])
    conv1_forward(x[c], w1, b1, a1[c])
    relu_pool_forward(a1[c], p1[c], arg1[c])
    conv2_forward(p1[c], w2, b2, a2[c])
    relu_pool_forward(a2[c], p2[c], arg2[c])
    dense_forward(p2[c].reshape(FEATURES), w3, b3, h[c], True)
    dense_forward(h[c], w4, b4, z[c], False)
    return z[c]


@serial
def _backward(params, grads, s, g, c):
    """Backward of chunk c's sample from dz (in g), accumulating into `grads`."""
    w1, b1, w2, b2, w3, b3, w4, b4 = params
    gw1, gb1, gw2, gb2, gw3, gb3, gw4, gb4 = grads
    x, a1, p1, arg1, a2, p2, arg2, h, z = s
    dz, dh, df, dp1 = g
    f = p2[c].reshape(FEATURES)
    dense_backward_params(h[c], dz[c], gw4, gb4)
    dense_backward_input(h[c], w4, dz[c], dh[c])
    dense_backward_params(f, dh[c], gw3, gb3)
    dense_backward_input(f, w3, dh[c], df[c].reshape(FEATURES))
    relu_pool_backward(df[c], arg2[c], a2[c])  # a2 is no longer needed: it takes dL/da2
    conv2_backward_params(p1[c], a2[c], gw2, gb2)
    conv2_backward_input(w2, a2[c], dp1[c])
    relu_pool_backward(dp1[c], arg1[c], a1[c])
    conv1_backward_params(x[c], a1[c], gw1, gb1)


@parallel
def _gradients(theta, offs, affine, images, labels, order, grads, s, g):
    """Per-chunk gradients of the mean loss over the batch `images[order]` into grads[chunk];
    returns the summed loss and the number of correct predictions."""
    n = order.shape[0]
    chunks = grads.shape[0]
    classes = s[8].shape[1]
    params = _views(theta, offs, classes)
    scale = np.float32(1.0 / n)
    losses = np.zeros(chunks, dtype=np.float64)
    correct = np.zeros(chunks, dtype=np.int64)
    for c in prange(chunks):
        grads[c] = 0
        chunk_grads = _views(grads[c], offs, classes)
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            k = order[i]
            _forward(images[k], affine, params, s, c)
            loss, hit = softmax_xent(s[8][c], labels[k], scale, g[0][c])
            losses[c] += loss
            correct[c] += hit
            _backward(params, chunk_grads, s, g, c)
    return losses.sum(), correct.sum()


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
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            out[i] = _forward(images[i], affine, params, s, c)


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
        self._scratch = Scratch(chunks, num_classes)

    def resident(self, array: np.ndarray) -> np.ndarray:
        """An array (images, labels) where the kernels read it: here, host memory."""
        return np.ascontiguousarray(array)

    def _batch(
        self, images: np.ndarray, labels: np.ndarray, order: np.ndarray
    ) -> tuple[float, int]:
        """Gradients of the batch images[order] into `grads`; its summed loss and hits."""
        s = self._scratch
        return _gradients(
            self.theta,
            self.offsets,
            self.affine,
            images,
            labels,
            order,
            self.grads,
            s.arrays(),
            s.grads(),
        )

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
