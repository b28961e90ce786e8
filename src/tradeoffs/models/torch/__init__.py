"""Torch model definitions and the one builder the engine uses.

`build_model(name, act, num_classes, in_shape)` returns an fp32 model for input of shape
`in_shape` (H, W, C) as NCHW tensors; the registry's `input_shape` says which shape each
model is built for, and the engine adapts every dataset to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from torch import nn

from tradeoffs import usermodels
from tradeoffs.models.torch import external
from tradeoffs.models.torch.activations import (
    ActFactory,
    activation_factory,
    replace_activations,
)
from tradeoffs.models.torch.cnn import CNN
from tradeoffs.models.torch.custom_cnn import CustomCNN
from tradeoffs.models.torch.gcn import GCN
from tradeoffs.models.torch.mlpmixer import MLPMixer
from tradeoffs.models.torch.mnist_cnn import MnistCNN
from tradeoffs.models.torch.vit import ViT

Shape = tuple[int, int, int]
Builder = Callable[..., nn.Module]  # (num_classes, act, shape, **model_options)


def _mnist_cnn(n: int, act: ActFactory, shape: Shape) -> nn.Module:
    if shape != (28, 28, 1):
        raise ValueError(f"mnist_cnn is defined for 28x28x1 input, not {shape}")
    return MnistCNN(n, act)


def _torchvision(name: str, **renamed: str) -> Builder:
    """torchvision's `name` builder; `renamed` maps config option names to torchvision's.
    torchvision is imported when such a model is built: its import costs seconds (it loads
    torch._dynamo), which every job of the other models would pay."""

    def build(n: int, act: ActFactory, shape: Shape, **options: Any) -> nn.Module:
        import torchvision

        kwargs = {renamed[key]: value for key, value in options.items()}
        model = getattr(torchvision.models, name)(weights=None, num_classes=n, **kwargs)
        if shape[2] != 3:
            raise ValueError(f"torchvision models take 3-channel input, not {shape}")
        return replace_activations(model, act)

    return build


BUILDERS: dict[str, Builder] = {
    "mnist_cnn": _mnist_cnn,
    "custom_cnn": lambda n, act, shape: CustomCNN(n, act, shape[2]),
    "cnn": lambda n, act, shape: CNN(n, act, shape[2]),
    "gcn": lambda n, act, shape, **options: GCN(n, act, shape, **options),
    "mlpmixer": lambda n, act, shape: MLPMixer(n, act, shape),
    "vit": lambda n, act, shape, **options: ViT(n, act, shape, **options),
    "resnet18": _torchvision("resnet18"),
    "mobilenetv2": _torchvision("mobilenet_v2", width="width_mult"),
}


def build_model(
    name: str,
    act: str,
    num_classes: int,
    in_shape: Shape,
    options: Mapping[str, Any] | None = None,
    declared: Mapping[str, Any] | None = None,
    weights: str = "none",
) -> nn.Module:
    """A freshly initialised fp32 model (initialisation draws from torch's global RNG);
    `options` are the study's `model_options` for it (schema-checked). A declared model
    (`declared`: its checked `models:` entry) and a zoo name (`torchvision.x`, `timm.x`; with
    `weights` "imagenet" its cached published weights) come from `external`; the activation
    replaces their ReLU modules as it does torchvision's."""
    if declared is not None:
        model = external.build_declared(declared, tuple(in_shape), num_classes)
        return replace_activations(model, activation_factory(act))
    if zoo := usermodels.zoo_of(name):
        model = external.build_zoo(*zoo, num_classes, weights)
        return replace_activations(model, activation_factory(act))
    if name not in BUILDERS:
        raise ValueError(f"no torch model {name!r}; choose from: {', '.join(sorted(BUILDERS))}")
    return BUILDERS[name](num_classes, activation_factory(act), tuple(in_shape), **(options or {}))


__all__ = ["BUILDERS", "activation_factory", "build_model", "replace_activations"]
