"""Seed 002's GCN: an image as a graph of patches on a grid, three graph convolutions.

Each non-overlapping `patch` x `patch` square is a node whose features are its pixels; nodes
are joined to their 4-neighbours. A layer computes act(Â H W) with Â = D^-1/2 (A + I) D^-1/2
(Kipf & Welling); the node features are mean-pooled into a linear classifier.
"""

from __future__ import annotations

import torch
from torch import nn

from tradeoffs.models.torch.activations import ActFactory


def grid_adjacency(rows: int, cols: int) -> torch.Tensor:
    """The normalised adjacency D^-1/2 (A + I) D^-1/2 of a 4-connected rows x cols grid."""
    n = rows * cols
    a = torch.eye(n)
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            if c + 1 < cols:
                a[i, i + 1] = a[i + 1, i] = 1.0
            if r + 1 < rows:
                a[i, i + cols] = a[i + cols, i] = 1.0
    d = a.sum(dim=1).rsqrt()
    return d[:, None] * a * d[None, :]


class GraphConv(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.linear = nn.Linear(cin, cout)

    def forward(self, h: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        return adj @ self.linear(h)


class GCN(nn.Module):
    def __init__(
        self,
        num_classes: int = 10,
        act: ActFactory = nn.ReLU,
        in_shape: tuple[int, int, int] = (32, 32, 3),
        patch: int = 4,
        hidden: int = 128,
    ) -> None:
        super().__init__()
        height, width, channels = in_shape
        self.patch = patch
        self.register_buffer("adj", grid_adjacency(height // patch, width // patch))
        dims = (channels * patch * patch, hidden, hidden, hidden)
        self.layers = nn.ModuleList(GraphConv(a, b) for a, b in zip(dims, dims[1:], strict=False))
        self.acts = nn.ModuleList(act() for _ in self.layers)
        self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, x):
        p = self.patch
        # (N, C, H, W) -> (N, nodes, C*p*p), nodes in row-major grid order
        h = nn.functional.unfold(x, kernel_size=p, stride=p).transpose(1, 2)
        for layer, act in zip(self.layers, self.acts, strict=True):
            h = act(layer(h, self.adj))
        return self.classifier(h.mean(dim=1))
