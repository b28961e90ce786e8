"""Seed 004's CNN, the network every backend of the `backends` study implements."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn


class MnistCNN(nn.Module):
    """conv 1->8 3x3, act, maxpool 2, conv 8->16 3x3, act, maxpool 2, flatten, dense ->128,
    act, dense ->classes (logits), on 28x28x1 input. No padding: 28 -> 26 -> 13 -> 11 -> 5."""

    def __init__(self, num_classes: int = 10, act: Callable[[], nn.Module] = nn.ReLU) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3)
        self.act1 = act()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.act2 = act()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(16 * 5 * 5, 128)
        self.act3 = act()
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.pool1(self.act1(self.conv1(x)))
        x = self.pool2(self.act2(self.conv2(x)))
        return self.fc2(self.act3(self.fc1(self.flatten(x))))
