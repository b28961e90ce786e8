"""Batch-norm statistics recalibrated on the training images before a model is evaluated.

A short run (a few dozen steps) leaves batch norm's running mean and variance close to their
initial values (momentum 0.1 per step), so a network that fits its training batches can score
chance on the test set in eval mode. Re-estimating the statistics as plain averages over the
training images, with the trained weights fixed, removes that artefact; it changes no weight
and costs one forward pass over the training set. Quantised models recalibrate the same way:
their quantisers read the weights, not the statistics.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import update_bn


def has_batchnorm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def recalibrate_batchnorm(model: nn.Module, images: torch.Tensor, batch_size: int) -> bool:
    """Replace every batch-norm layer's running statistics by their average over `images`
    (already normalised, on the model's device), in batches; True when the model had any.
    The model is left in eval mode."""
    if not has_batchnorm(model):
        return False
    usable = len(images) - (len(images) % batch_size == 1)  # batch norm refuses a batch of one
    with torch.no_grad():
        update_bn(images[:usable].split(batch_size), model)
    model.eval()
    return True
