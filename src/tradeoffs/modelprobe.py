"""Build each model from outside the package once, before any job, in its framework's
interpreter: `python -m tradeoffs.modelprobe` reads a JSON list of checks on stdin (made by
`tradeoffs.config`, see `tradeoffs.usermodels.probe`) and prints a JSON list of messages, one
per mistake, each naming the model, its file and what is wrong.

Per model: the zoo has the name (else the closest names); the builder's file imports, has the
function, the call returns a model; on every dataset of its studies, a batch of two images of
the run's input shape gives `num_classes` outputs in training and in eval mode (Keras:
probabilities, and the model saves and reads back in safe mode); an activation other than
relu needs ReLU modules to swap; a precision other than fp32 needs layers the quantiser
quantises, and the quantised model runs.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # larq runs on Keras 2 only; before TF loads

BATCH = 2


def _label(check: dict[str, Any]) -> str:
    if check["declared"]:
        file = check["declared"]["builder"].rsplit(":", 1)[0]
        return f"models.{check['model']}: model {check['model']!r} ({file})"
    return f"{check['where']}: model {check['model']!r}"


def _builder(check: dict[str, Any]) -> tuple[Any, str | None]:
    """The declared model's builder function, or the message saying why it cannot be had."""
    from tradeoffs.models.builders import builder_function

    try:
        return builder_function(check["declared"]["builder"]), None
    except Exception as error:  # noqa: BLE001  (a user's file may raise anything on import)
        return None, f"importing the builder failed: {type(error).__name__}: {error}"


@cache
def _zoo_names(zoo: str) -> tuple[str, ...]:
    from tradeoffs.models.torch.external import zoo_names

    return tuple(zoo_names(zoo))


def _zoo_error(check: dict[str, Any]) -> str | None:
    zoo, arch = check["zoo"]
    names = _zoo_names(zoo)
    if arch in names:
        return None
    close = difflib.get_close_matches(arch, names, n=5, cutoff=0.6)
    hint = f"closest: {', '.join(close)}" if close else f"{len(names)} names, none close"
    return f"{zoo} has no classification model {arch!r} ({hint})"


def _torch_build(check: dict[str, Any], shape: tuple[int, int, int], classes: int) -> Any:
    from tradeoffs.models.torch import build_model

    return build_model(
        check["model"],
        "relu",
        classes,
        shape,
        declared=check["declared"],
        weights=check["weights"],
    )


def _torch_output_error(model: Any, shape: tuple[int, int, int], classes: int) -> str | None:
    import torch

    x = torch.zeros(BATCH, shape[2], shape[0], shape[1])
    for mode in ("training", "eval"):
        model.train(mode == "training")
        try:
            with torch.no_grad():
                out = model(x)
        except Exception as error:  # noqa: BLE001  (a user's forward may raise anything)
            name = type(error).__name__
            return f"a forward pass in {mode} mode on {BATCH}x{shape} input raised {name}: {error}"
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != (BATCH, classes):
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            return (
                f"in {mode} mode its output for {BATCH} images of shape {shape} (H, W, C) is "
                f"{got}, not ({BATCH}, {classes}): it must return num_classes logits per image"
            )
    return None


def _torch_errors(check: dict[str, Any]) -> list[str]:
    import torch
    from torch import nn

    from tradeoffs import precision
    from tradeoffs.precision.modules import quantised_layers

    if check["zoo"] and (error := _zoo_error(check)):
        return [error]
    if check["declared"]:
        _, error = _builder(check)
        if error:
            return [error]
    errors = []
    for shape, classes in check["inputs"]:
        shape = tuple(shape)
        torch.manual_seed(0)
        try:
            model = _torch_build(check, shape, classes)
        except Exception as error:  # noqa: BLE001
            errors.append(f"building it for {shape} input raised {type(error).__name__}: {error}")
            break
        if error := _torch_output_error(model, shape, classes):
            errors.append(error)
            break
        others = [a for a in check["activations"] if a != "relu"]
        if others and not any(isinstance(m, nn.ReLU | nn.ReLU6) for m in model.modules()):
            errors.append(
                f"activations {', '.join(others)} replace nn.ReLU modules, and it has none; "
                "use nn.ReLU modules or study it with activations: [relu]"
            )
        formats = [p for p in check["precisions"] if p != "fp32"]
        if formats and not quantised_layers(model, check["quantization"]["first_last"]):
            errors.append(
                f"precisions {', '.join(formats)}: it has no layer the quantiser quantises "
                "(Linear, Conv, MultiheadAttention; quantization.first_last: fp32 keeps the "
                "first and the last at fp32); remove those precisions for it"
            )
        elif formats:
            quantised = precision.quantize_model(
                copy.deepcopy(model), formats[0], check["quantization"]
            )
            if error := _torch_output_error(quantised, shape, classes):
                errors.append(f"quantised to {formats[0]}, {error}")
        break  # one dataset's shape builds the same layers; the others' differ in size only
    return errors


def _keras_errors(check: dict[str, Any]) -> list[str]:
    import numpy as np
    import tensorflow as tf

    from tradeoffs.models.keras import build_model, custom_objects, input_shape

    _, error = _builder(check)
    if error:
        return [error]
    shape = input_shape(check["image_size"])
    for _, classes in check["inputs"]:
        try:
            model = build_model(
                check["model"], classes, {}, None, declared=check["declared"], shape=shape
            )
        except Exception as error:  # noqa: BLE001
            return [f"building it raised {type(error).__name__}: {error}"]
        try:
            out = np.asarray(model(np.zeros((BATCH, *shape), np.float32), training=False))
        except Exception as error:  # noqa: BLE001
            return [f"a forward pass on {BATCH}x{shape} raised {type(error).__name__}: {error}"]
        if out.shape != (BATCH, classes):
            return [
                f"its output for {BATCH} images of shape {shape} is {out.shape}, not "
                f"({BATCH}, {classes}): it must return num_classes probabilities per image"
            ]
        if not np.allclose(out.sum(axis=1), 1.0, atol=1e-3):
            return [
                "its outputs do not sum to 1: end it with a softmax (the engine trains on "
                "probabilities)"
            ]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.keras"
            try:
                model.save(path)
                tf.keras.models.load_model(
                    path, custom_objects=custom_objects(), compile=False, safe_mode=True
                )
            except Exception as error:  # noqa: BLE001
                return [
                    "it does not save and read back as model.keras in safe mode "
                    f"({type(error).__name__}: {error}); use Keras' and larq's own layers"
                ]
        break
    return []


def main() -> None:
    checks = json.loads(sys.stdin.read())
    messages = []
    for check in checks:
        errors = _torch_errors(check) if check["framework"] == "torch" else _keras_errors(check)
        messages += [f"{_label(check)}: {error}" for error in errors]
    print(json.dumps(messages))


if __name__ == "__main__":
    main()
