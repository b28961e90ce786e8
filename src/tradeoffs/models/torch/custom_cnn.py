"""Seed 001's custom CNN for 32x32 colour images.

The seed reports 2,332,106 parameters on CIFAR-10 but not the layers. This VGG-style layout
(conv 64-64 / 128-128 / 256-256 / 512, each conv 3x3 without bias followed by batch norm, a
max-pool between stages, global average pooling and a dense head) has exactly that count with
10 classes.
"""

from __future__ import annotations

from torch import nn

from tradeoffs.models.torch.activations import ActFactory

STAGES = ((64, 64), (128, 128), (256, 256), (512,))


def _conv(cin: int, cout: int, act: ActFactory) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), act()]


class CustomCNN(nn.Module):
    def __init__(self, num_classes: int = 10, act: ActFactory = nn.ReLU, in_channels: int = 3):
        super().__init__()
        layers: list[nn.Module] = []
        cin = in_channels
        for i, stage in enumerate(STAGES):
            if i:
                layers.append(nn.MaxPool2d(2))
            for cout in stage:
                layers += _conv(cin, cout, act)
                cin = cout
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(cin, num_classes))

    def forward(self, x):
        return self.head(self.pool(self.features(x)))
