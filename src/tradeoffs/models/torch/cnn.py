"""Seed 002's CNN: four conv blocks 64-128-256-512 with batch norm, adaptive pooling, a dense
classifier."""

from __future__ import annotations

from torch import nn

from tradeoffs.models.torch.activations import ActFactory

WIDTHS = (64, 128, 256, 512)


class CNN(nn.Module):
    def __init__(self, num_classes: int = 10, act: ActFactory = nn.ReLU, in_channels: int = 3):
        super().__init__()
        blocks: list[nn.Module] = []
        cin = in_channels
        for i, cout in enumerate(WIDTHS):
            blocks += [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), act()]
            if i < len(WIDTHS) - 1:
                blocks.append(nn.MaxPool2d(2))
            cin = cout
        self.features = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(cin, num_classes))

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)))
