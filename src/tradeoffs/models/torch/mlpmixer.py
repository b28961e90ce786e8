"""Seed 002's "MLP-Mixer". The seed describes it as a simple multi-layer perceptron on the
flattened input with configurable hidden layers (not Tolstikhin et al.'s token/channel Mixer),
and that is what the study measures."""

from __future__ import annotations

import math

from torch import nn

from tradeoffs.models.torch.activations import ActFactory


class MLPMixer(nn.Module):
    def __init__(
        self,
        num_classes: int = 10,
        act: ActFactory = nn.ReLU,
        in_shape: tuple[int, int, int] = (32, 32, 3),
        hidden: tuple[int, ...] = (512, 256),
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        cin = math.prod(in_shape)
        for cout in hidden:
            layers += [nn.Linear(cin, cout), act()]
            cin = cout
        layers.append(nn.Linear(cin, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
