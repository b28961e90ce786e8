"""Seed 002's Vision Transformer, small enough for 32x32 images: 4x4 patches, a class token,
learned positional embeddings, pre-norm encoder blocks whose MLP uses the chosen activation."""

from __future__ import annotations

import torch
from torch import nn

from tradeoffs.models.torch.activations import ActFactory


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp: int, act: ActFactory) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), act(), nn.Linear(mlp, dim))

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(
        self,
        num_classes: int = 10,
        act: ActFactory = nn.GELU,
        in_shape: tuple[int, int, int] = (32, 32, 3),
        patch: int = 4,
        dim: int = 128,
        depth: int = 4,
        heads: int = 4,
        mlp: int = 256,
    ) -> None:
        super().__init__()
        height, width, channels = in_shape
        tokens = (height // patch) * (width // patch)
        self.embed = nn.Conv2d(channels, dim, patch, stride=patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*(Block(dim, heads, mlp, act) for _ in range(depth)))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        return self.head(self.norm(self.blocks(x))[:, 0])
