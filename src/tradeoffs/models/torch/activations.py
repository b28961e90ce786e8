"""The eight activations every torch model accepts, and their swap into torchvision models."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

ActFactory = Callable[[], nn.Module]

_FACTORIES: dict[str, ActFactory] = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
    "prelu": nn.PReLU,
    "swish": nn.SiLU,
    "softplus": nn.Softplus,
}


def activation_factory(name: str) -> ActFactory:
    """A callable making a fresh activation module (each PReLU gets its own slope)."""
    try:
        return _FACTORIES[name]
    except KeyError:
        choices = ", ".join(_FACTORIES)
        raise ValueError(f"unknown activation {name!r}; choose from: {choices}") from None


def replace_activations(module: nn.Module, act: ActFactory) -> nn.Module:
    """Swap every ReLU/ReLU6 in `module` (in place) for a new `act()` module.

    Torchvision's ResNet reuses one ReLU module twice per block; the swap keeps that sharing,
    so a PReLU there has one slope per block, as the module graph says.
    """
    for name, child in module.named_children():
        if isinstance(child, nn.ReLU | nn.ReLU6):
            setattr(module, name, act())
        else:
            replace_activations(child, act)
    return module
