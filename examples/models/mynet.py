"""An example of a model of your own for tradeoffs (docs/your-models.md): a small torch CNN.

tradeoffs calls `build(input_shape, num_classes, **options)` with the (H, W, C) of the images
the model gets (float NCHW tensors, standardised per channel) and the study's class count; the
model returns num_classes logits per image. Activations are nn.ReLU modules, so a study's
`activations:` can swap them; Conv and Linear layers are what the quantiser quantises.
"""

from torch import nn


def build(input_shape, num_classes, width=16):
    height, _, channels = input_shape
    return nn.Sequential(
        nn.Conv2d(channels, width, 3, padding=1),
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * width, 4 * width),
        nn.ReLU(),
        nn.Linear(4 * width, num_classes),
    )
