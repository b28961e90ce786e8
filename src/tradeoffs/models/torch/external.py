"""Torch models from outside the package: a declared model's builder (a function in a file of
the user's) and the torchvision and timm zoos by name.

A builder is called as `build(input_shape, num_classes, **options)`: `input_shape` is the
(H, W, C) of the images it gets (the dataset's, or `train.image_size` square), as float NCHW
tensors standardised by the training set's per-channel mean and std; it returns an
`nn.Module` whose output is `num_classes` logits per image. Zoo networks are built with
`num_classes` outputs and no weights, or (`transfer.weights: imagenet`) with the published
weights read from the local cache only, their classifier left at its fresh initialisation.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tradeoffs.models.builders import ExternalModelError, builder_function


def build_declared(
    declared: Mapping[str, Any], in_shape: tuple[int, int, int], num_classes: int
) -> nn.Module:
    """A declared model, freshly initialised (from torch's global RNG)."""
    model = builder_function(declared["builder"])(
        tuple(in_shape), num_classes, **declared["options"]
    )
    if not isinstance(model, nn.Module):
        raise ExternalModelError(
            f"the builder returned {type(model).__name__}, not a torch.nn.Module"
        )
    return model


def zoo_names(zoo: str) -> list[str]:
    """Every classification model name a zoo has (torchvision: its `models` module only, not
    detection or segmentation)."""
    if zoo == "torchvision":
        import torchvision

        return sorted(torchvision.models.list_models(module=torchvision.models))
    import timm

    return sorted(timm.list_models())


def build_zoo(zoo: str, arch: str, num_classes: int, weights: str) -> nn.Module:
    """A zoo network with `num_classes` outputs, random or (weights "imagenet") with its
    published weights from the local cache, never downloaded."""
    if zoo == "torchvision":
        import torchvision

        model = torchvision.models.get_model(arch, weights=None, num_classes=num_classes)
        if weights == "imagenet":
            _load_matching(model, _torchvision_weights(arch))
        return model
    import timm

    if weights != "imagenet":
        return timm.create_model(arch, pretrained=False, num_classes=num_classes)
    return timm.create_model(
        arch,
        pretrained=True,
        pretrained_cfg_overlay={"file": str(_timm_weights(arch))},
        num_classes=num_classes,
    )


def _torchvision_weights(arch: str) -> Path:
    import torchvision

    try:
        url = torchvision.models.get_model_weights(arch).DEFAULT.url
    except (ValueError, AttributeError):
        raise ExternalModelError(f"torchvision publishes no weights for {arch!r}") from None
    path = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]
    if not path.is_file():
        raise ExternalModelError(
            f"torchvision's weights for {arch!r} are not in the local cache: place {url} at "
            f"{path} (downloads are never made), or use transfer.weights: none"
        )
    return path


def _timm_weights(arch: str) -> Path:
    import timm
    from huggingface_hub import try_to_load_from_cache

    cfg = timm.models.get_pretrained_cfg(arch)
    repo = cfg.hf_hub_id if cfg is not None else None
    found = None
    if repo:
        for filename in ("model.safetensors", "pytorch_model.bin"):
            cached = try_to_load_from_cache(repo, filename)
            if isinstance(cached, str):
                found = Path(cached)
                break
    if found is None:
        raise ExternalModelError(
            f"timm's weights for {arch!r} are not in the Hugging Face cache (repository "
            f"{repo or 'none'}); fetch them once with huggingface-cli download {repo}, or use "
            "transfer.weights: none"
        )
    return found


def _load_matching(model: nn.Module, path: Path) -> None:
    """Load the tensors of `path` (weights_only) whose name and shape match `model`'s: every
    layer but a classifier sized for other classes."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    own = model.state_dict()
    matching = {k: v for k, v in saved.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(matching, strict=False)
