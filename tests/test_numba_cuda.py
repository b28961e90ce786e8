"""numba-cuda kernels against PyTorch autograd on tiny shapes.

Without a GPU the kernel tests run in a subprocess under NUMBA_ENABLE_CUDASIM=1 (the variable
must be set before numba.cuda is imported); the whole-network test needs a real device.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numba import cuda
from numba_fixtures import RNG, close, rand

SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
needs_cuda = pytest.mark.skipif(
    not (SIMULATED or cuda.is_available()), reason="no CUDA device (run under the simulator)"
)


@pytest.mark.slow
@pytest.mark.skipif(SIMULATED or cuda.is_available(), reason="runs the kernels directly")
def test_kernels_under_simulator():
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__, "-k", "kernel_"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout


@needs_cuda
def test_kernel_load_images_standardises_in_order():
    from tradeoffs.models.numba import cuda_kernels as k
    from tradeoffs.models.numba.layout import Norm

    images = RNG.integers(0, 256, (4, 3, 3, 1), dtype=np.uint8)
    order, norm = np.array([3, 1, 0, 2]), Norm(mean=0.2, std=0.4)
    x = cuda.device_array((2, 1, 3, 3), np.float32)
    k.launch(k.load_images, x.size, images, order, 1, 2, norm.scale, norm.shift, x)
    expected = (images[order[1:3]] / 255 - norm.mean) / norm.std
    close(x.copy_to_host(), expected.transpose(0, 3, 1, 2))


@needs_cuda
def test_kernel_conv_forward_backward():
    """The tiled forward; the input gradient through the same kernel (padded, flipped); the
    weight gradient's block reduction, with more positions per chunk than threads per block."""
    from tradeoffs.models.numba import cuda_kernels as k

    n, size, cin, cout = 3, 12, 2, 3
    x, w, b = rand(n, cin, size + 2, size + 2), rand(cout, cin, 3, 3), rand(cout)
    g = rand(n, cout, size, size)
    xt, wt, bt = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    out_t = F.conv2d(xt, wt, bt)
    out_t.backward(torch.from_numpy(g))
    out, dx = cuda.device_array(g.shape, np.float32), cuda.device_array(x.shape, np.float32)
    chunks, w_size = 2, w.size
    grads = cuda.to_device(np.zeros((chunks, w_size + cout), np.float32))
    k.conv_forward[n, k.THREADS](x, w, b, 0, False, out)
    blocks = k.conv_backward_params_blocks(chunks, cin, cout)
    k.conv_backward_params[blocks, k.THREADS](x, g, n, grads, 0, w_size)
    k.conv_forward[n, k.THREADS](g, w, np.zeros(cin, np.float32), 2, True, dx)
    total = grads.copy_to_host().sum(axis=0)
    close(out.copy_to_host(), out_t)
    close(total[:w_size].reshape(w.shape), wt.grad)
    close(total[w_size:], bt.grad)
    close(dx.copy_to_host(), xt.grad)


@needs_cuda
def test_kernel_relu_pool_forward_backward():
    from tradeoffs.models.numba import cuda_kernels as k

    n, size, c = 2, 5, 3
    a, g = rand(n, c, size, size), rand(n, c, size // 2, size // 2)
    at = torch.from_numpy(a).requires_grad_()
    out_t = F.max_pool2d(F.relu(at), 2)
    out_t.backward(torch.from_numpy(g))
    out, da = cuda.device_array(g.shape, np.float32), cuda.device_array(a.shape, np.float32)
    arg = cuda.device_array(g.shape, np.int8)
    k.launch(k.relu_pool_forward, out.size, a, n, out, arg)
    k.launch(k.relu_pool_backward, da.size, g, arg, n, da)
    close(out.copy_to_host(), out_t)
    close(da.copy_to_host(), at.grad)


@needs_cuda
def test_kernel_dense_and_softmax_xent():
    from tradeoffs.models.numba import cuda_kernels as k

    n, n_in, n_out = 3, 6, 4
    x0, w, b = rand(n, n_in), rand(n_in, n_out), rand(n_out)
    labels = RNG.integers(0, n_out, n)
    x0t = torch.from_numpy(x0).requires_grad_()
    wt, bt = torch.from_numpy(w).requires_grad_(), torch.from_numpy(b).requires_grad_()
    z_t = F.relu(x0t) @ wt + bt
    loss_t = F.cross_entropy(z_t, torch.from_numpy(labels))
    loss_t.backward()
    x = np.maximum(x0, 0)
    z, dz, dx = (cuda.device_array(s, np.float32) for s in ((n, n_out), (n, n_out), (n, n_in)))
    losses, hits = cuda.device_array(n, np.float32), cuda.device_array(n, np.int32)
    order = np.arange(n)
    grads = cuda.to_device(np.zeros((2, w.size + n_out), np.float32))
    k.launch(k.dense_forward, z.size, x, w, b, n, False, z)
    k.launch(k.softmax_xent, n, z, labels, order, 0, n, np.float32(1 / n), dz, losses, hits)
    k.launch(k.dense_backward_params, 2 * (n_in + 1) * n_out, x, dz, n, grads, 0, w.size)
    k.launch(k.dense_backward_input, dx.size, x, w, dz, n, dx)
    total = grads.copy_to_host().sum(axis=0)
    close(z.copy_to_host(), z_t)
    close(losses.copy_to_host().mean(), loss_t)
    close(total[: w.size].reshape(w.shape), wt.grad)
    close(total[w.size :], bt.grad)
    close(dx.copy_to_host(), x0t.grad)


@needs_cuda
def test_kernel_sgd_momentum():
    from tradeoffs.models.numba import cuda_kernels as k

    theta, velocity, grads = rand(5), rand(5), rand(2, 5)
    expected_v = 0.9 * velocity + grads.sum(axis=0)
    expected_theta = theta - 0.1 * expected_v
    d_theta, d_velocity = cuda.to_device(theta), cuda.to_device(velocity)
    k.launch(k.sgd, 5, d_theta, d_velocity, grads, np.float32(0.1), np.float32(0.9))
    close(d_velocity.copy_to_host(), expected_v)
    close(d_theta.copy_to_host(), expected_theta)


@pytest.mark.skipif(SIMULATED or not cuda.is_available(), reason="needs a CUDA device")
def test_network_gradients_on_device():
    from tradeoffs.models.numba import layout
    from tradeoffs.models.numba.cuda import CudaModel
    from tradeoffs.models.torch.mnist_cnn import MnistCNN

    theta, norm = layout.initial_params(0, 10), layout.Norm(mean=0.13, std=0.31)
    x = RNG.integers(0, 256, (37, 28, 28, 1), dtype=np.uint8)
    y = RNG.integers(0, 10, 37)
    reference = MnistCNN(10)
    reference.load_state_dict(
        {k: torch.from_numpy(v) for k, v in layout.to_torch(theta, 10).items()}
    )
    logits_t = reference(
        (torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255 - norm.mean) / norm.std
    )
    loss_t = F.cross_entropy(logits_t, torch.from_numpy(y))
    loss_t.backward()
    model = CudaModel(theta, 10, norm, 37)
    xs, ys = model.resident(x), model.resident(y)
    loss, grads = model.gradients(xs, ys)
    close(model.logits(xs), logits_t)
    close(loss, loss_t)
    expected = {k: p.grad.numpy() for k, p in reference.named_parameters()}
    for name, value in layout.to_torch(grads, 10).items():
        close(value, expected[name])
