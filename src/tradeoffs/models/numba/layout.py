"""Seed 004's CNN as one flat float32 parameter vector, in the layout the numba kernels read.

Activations are CHW per sample (channel planes, `cpu_layers`), so the convolutions' innermost
loops run along a plane with unit stride: conv weights keep torch's (cout, cin, kh, kw), fc1's
input rows torch's CHW flatten; dense weights are (in, out), so their inner loops run over
output units. model.npz keeps torch's names and layouts (loadable into MnistCNN).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from tradeoffs.data.prepared import channel_stats

IMAGE = 28
C1, C2, HIDDEN = 8, 16, 128
A1, P1, A2, P2 = 26, 13, 11, 5  # conv1 out, pool1 out, conv2 out, pool2 out (height = width)
FEATURES = C2 * P2 * P2


@dataclass(frozen=True)
class Norm:
    """The input standardisation (pixel / 255 - mean) / std of one-channel uint8 images, which
    the kernels apply as one float32 multiply-add: pixel * scale + shift."""

    mean: float
    std: float

    @classmethod
    def of(cls, images: np.ndarray) -> Norm:
        """The statistics of (training) images, `channel_stats`'s as the torch engine's."""
        (mean,), (std,) = channel_stats(images)
        return cls(mean, std)

    @property
    def scale(self) -> np.float32:
        return np.float32(1.0 / (255.0 * self.std))

    @property
    def shift(self) -> np.float32:
        return np.float32(-self.mean / self.std)


def param_shapes(num_classes: int) -> list[tuple[str, tuple[int, ...]]]:
    """Names (torch's) and kernel-layout shapes of the parameters, in flat-vector order."""
    return [
        ("conv1.weight", (C1, 1, 3, 3)),
        ("conv1.bias", (C1,)),
        ("conv2.weight", (C2, C1, 3, 3)),
        ("conv2.bias", (C2,)),
        ("fc1.weight", (FEATURES, HIDDEN)),
        ("fc1.bias", (HIDDEN,)),
        ("fc2.weight", (HIDDEN, num_classes)),
        ("fc2.bias", (num_classes,)),
    ]


def offsets(num_classes: int) -> np.ndarray:
    """Start of each parameter in the flat vector, and its total length last."""
    sizes = [int(np.prod(shape)) for _, shape in param_shapes(num_classes)]
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def param_count(num_classes: int) -> int:
    return int(offsets(num_classes)[-1])


def macs(num_classes: int) -> int:
    """Multiply-accumulates of one forward pass of one image."""
    return A1 * A1 * C1 * 9 + A2 * A2 * C2 * 9 * C1 + FEATURES * HIDDEN + HIDDEN * num_classes


def _transposed(name: str, value: np.ndarray) -> np.ndarray:
    """torch's (out, in) dense weights <-> the kernels' (in, out); everything else as is."""
    return value.T if name.startswith("fc") and name.endswith("weight") else value


def from_torch(state: Mapping[str, np.ndarray]) -> np.ndarray:
    """Flat kernel-layout vector from MnistCNN's state dict (as numpy arrays)."""
    num_classes = state["fc2.bias"].shape[0]
    parts = [_transposed(name, np.asarray(state[name])) for name, _ in param_shapes(num_classes)]
    return np.concatenate([part.ravel() for part in parts]).astype(np.float32)


def to_torch(flat: np.ndarray, num_classes: int) -> dict[str, np.ndarray]:
    """MnistCNN's state dict (numpy, torch layouts) from a flat kernel-layout vector."""
    bounds = offsets(num_classes)
    return {
        name: np.ascontiguousarray(_transposed(name, flat[lo:hi].reshape(shape)))
        for (name, shape), lo, hi in zip(
            param_shapes(num_classes), bounds[:-1], bounds[1:], strict=True
        )
    }


def initial_params(seed: int, num_classes: int) -> np.ndarray:
    """The torch run's initial weights: the same `seed_everything(seed); MnistCNN(classes)`."""
    from tradeoffs.models.torch.mnist_cnn import MnistCNN
    from tradeoffs.seeding import seed_everything

    seed_everything(seed)
    model = MnistCNN(num_classes)
    return from_torch({k: v.detach().numpy() for k, v in model.state_dict().items()})
