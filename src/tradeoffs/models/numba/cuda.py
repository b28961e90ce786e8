"""numba-cuda: seed 004's CNN with hand-written `cuda.jit` kernels (`cuda_kernels`).

Parameters, momentum, activations and the datasets live on the device for the whole run; a
step launches kernels only (`cuda_kernels`: shared-memory tiled convolutions, the input
gradient through the forward kernel). Per-sample losses and hits go to device arrays indexed by the
sample's position in the epoch and are read once per epoch, so no step waits on the host.
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from tradeoffs.models.numba import cuda_kernels as k
from tradeoffs.models.numba import layout
from tradeoffs.models.numba.layout import A1, A2, C1, C2, FEATURES, HIDDEN, IMAGE, P1, P2

CHUNKS = 16


class _Buffers:
    """Activations and their gradients for one batch size, on the device."""

    def __init__(self, batch: int, classes: int) -> None:
        def buf(*shape: int, dtype: type = np.float32):
            return cuda.device_array((batch, *shape), dtype=dtype)

        self.x = buf(1, IMAGE, IMAGE)
        self.a1, self.p1, self.arg1 = (
            buf(C1, A1, A1),
            buf(C1, P1, P1),
            buf(C1, P1, P1, dtype=np.int8),
        )
        self.a2, self.p2, self.arg2 = (
            buf(C2, A2, A2),
            buf(C2, P2, P2),
            buf(C2, P2, P2, dtype=np.int8),
        )
        self.f = self.p2.reshape(batch, FEATURES)
        self.h, self.z, self.dz, self.dh = buf(HIDDEN), buf(classes), buf(classes), buf(HIDDEN)
        self.df = buf(FEATURES)
        self.dp1 = buf(C1, P1, P1)
        self.zero_bias = cuda.to_device(np.zeros(C1, dtype=np.float32))


class CudaModel:
    """Same interface as `cpu.CpuModel`, with device-resident data."""

    def __init__(
        self, theta: np.ndarray, num_classes: int, norm: layout.Norm, batch_size: int
    ) -> None:
        self.num_classes = num_classes
        self.scale, self.shift = norm.scale, norm.shift
        self.batch_size = batch_size
        self.offsets = layout.offsets(num_classes)
        self.theta = cuda.to_device(np.asarray(theta, dtype=np.float32))
        self.velocity = cuda.to_device(np.zeros(self.theta.size, dtype=np.float32))
        self.grads = cuda.device_array((CHUNKS, self.theta.size), dtype=np.float32)
        self.params_views = [
            self.theta[lo:hi].reshape(shape)
            for (_, shape), lo, hi in zip(
                layout.param_shapes(num_classes), self.offsets[:-1], self.offsets[1:], strict=True
            )
        ]
        self._b = _Buffers(batch_size, num_classes)
        self._identity = cuda.to_device(np.arange(batch_size))

    def resident(self, array: np.ndarray):
        """Upload an array (images, labels) once; the kernels read it from the device."""
        return cuda.to_device(np.ascontiguousarray(array))

    def _forward(self, images, order, start: int, n: int) -> None:
        b = self._b
        w1, b1, w2, b2, w3, b3, w4, b4 = self.params_views
        k.launch(
            k.load_images, n * IMAGE * IMAGE, images, order, start, n, self.scale, self.shift, b.x
        )
        k.conv_forward[n, k.THREADS](b.x, w1, b1, 0, False, b.a1)
        k.launch(k.relu_pool_forward, n * P1 * P1 * C1, b.a1, n, b.p1, b.arg1)
        k.conv_forward[n, k.THREADS](b.p1, w2, b2, 0, False, b.a2)
        k.launch(k.relu_pool_forward, n * P2 * P2 * C2, b.a2, n, b.p2, b.arg2)
        k.launch(k.dense_forward, n * HIDDEN, b.f, w3, b3, n, True, b.h)
        k.launch(k.dense_forward, n * self.num_classes, b.h, w4, b4, n, False, b.z)

    def _backward(self, n: int) -> None:
        """Gradients of the loss from dz into grads[chunk]; reuses a1, a2 for dL/da."""
        b, offs, g = self._b, self.offsets, self.grads
        _, _, w2, _, w3, _, w4, _ = self.params_views
        classes = self.num_classes
        k.launch(
            k.dense_backward_params,
            CHUNKS * (HIDDEN + 1) * classes,
            b.h,
            b.dz,
            n,
            g,
            offs[6],
            offs[7],
        )
        k.launch(k.dense_backward_input, n * HIDDEN, b.h, w4, b.dz, n, b.dh)
        k.launch(
            k.dense_backward_params,
            CHUNKS * (FEATURES + 1) * HIDDEN,
            b.f,
            b.dh,
            n,
            g,
            offs[4],
            offs[5],
        )
        k.launch(k.dense_backward_input, n * FEATURES, b.f, w3, b.dh, n, b.df)
        df = b.df.reshape(self.batch_size, C2, P2, P2)
        k.launch(k.relu_pool_backward, n * A2 * A2 * C2, df, b.arg2, n, b.a2)
        blocks = k.conv_backward_params_blocks(CHUNKS, C1, C2)
        k.conv_backward_params[blocks, k.THREADS](b.p1, b.a2, n, g, offs[2], offs[3])
        k.conv_forward[n, k.THREADS](b.a2, w2, b.zero_bias, 2, True, b.dp1)
        k.launch(k.relu_pool_backward, n * A1 * A1 * C1, b.dp1, b.arg1, n, b.a1)
        blocks = k.conv_backward_params_blocks(CHUNKS, 1, C1)
        k.conv_backward_params[blocks, k.THREADS](b.x, b.a1, n, g, offs[0], offs[1])

    def _loss_and_grads(self, images, labels, order, start, n, losses, hits) -> None:
        scale = np.float32(1.0 / n)
        self._forward(images, order, start, n)
        k.launch(
            k.softmax_xent, n, self._b.z, labels, order, start, n, scale, self._b.dz, losses, hits
        )
        self._backward(n)

    def gradients(self, images, labels) -> tuple[float, np.ndarray]:
        """Mean loss of one resident batch and its gradient (flat, kernel layout); no update."""
        n = len(images)
        order = cuda.to_device(np.arange(n))
        losses = cuda.device_array(n, dtype=np.float32)
        hits = cuda.device_array(n, dtype=np.int32)
        self._loss_and_grads(images, labels, order, 0, n, losses, hits)
        return float(losses.copy_to_host().mean()), self.grads.copy_to_host().sum(axis=0)

    def train_epoch(
        self, images, labels, order: np.ndarray, batch_size: int, lr: float, momentum: float
    ) -> tuple[float, float]:
        """One pass over images[order]; returns the mean loss and the accuracy."""
        count = len(order)
        d_order = cuda.to_device(np.ascontiguousarray(order, dtype=np.int64))
        losses = cuda.device_array(count, dtype=np.float32)
        hits = cuda.device_array(count, dtype=np.int32)
        lr, momentum = np.float32(lr), np.float32(momentum)
        for start in range(0, count, batch_size):
            n = min(batch_size, count - start)
            self._loss_and_grads(images, labels, d_order, start, n, losses, hits)
            k.launch(k.sgd, self.theta.size, self.theta, self.velocity, self.grads, lr, momentum)
        losses, hits = losses.copy_to_host(), hits.copy_to_host()
        return float(losses.astype(np.float64).mean()), float(hits.mean())

    def logits_device(self, images):
        """Logits of up to `batch_size` resident images, left on the device (no sync)."""
        n = len(images)
        self._forward(images, self._identity, 0, n)
        return self._b.z[:n]

    def logits(self, images) -> np.ndarray:
        """Logits (N, classes) of resident images, on the host."""
        n = len(images)
        order = cuda.to_device(np.arange(n))
        out = np.empty((n, self.num_classes), dtype=np.float32)
        for start in range(0, n, self.batch_size):
            m = min(self.batch_size, n - start)
            self._forward(images, order, start, m)
            out[start : start + m] = self._b.z[:m].copy_to_host()
        return out

    def params(self) -> np.ndarray:
        return self.theta.copy_to_host()
