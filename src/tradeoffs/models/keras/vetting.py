"""Whether a legacy HDF5 Keras file would run code when read.

`tf.keras.models.load_model` applies `safe_mode` only to zip `.keras` files; an HDF5 file's
`model_config` is rebuilt with every layer called on symbolic inputs, so a `Lambda` layer's
marshalled bytecode, or a class resolved from a name (`TFOpLambda` names any TensorFlow
function), runs as the file loads. The config is read here with h5py, as JSON, and the file is
refused unless every class it names is a built-in Keras layer, initializer, regularizer or
constraint, a model container, or one of the project's own classes.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from typing import Any

import tensorflow as tf

from tradeoffs import kerasconfig
from tradeoffs.fileformat import FileFormat, UnsafeModelError

CONTAINERS = frozenset({"Functional", "Sequential", "Model", "Policy"})
CODE_CLASSES = frozenset({"Lambda"})  # built-in, yet holds user code
CODE_KEYS = frozenset({"function_type", "output_shape_type"})  # a Lambda's serialised code


def builtin_classes() -> frozenset[str]:
    """Class names Keras resolves without user code."""
    names = set(CONTAINERS)
    for module in (
        tf.keras.layers,
        tf.keras.initializers,
        tf.keras.regularizers,
        tf.keras.constraints,
    ):
        names.update(name for name, obj in vars(module).items() if inspect.isclass(obj))
    return frozenset(names - CODE_CLASSES)


def code_reasons(config: Any, known: frozenset[str]) -> list[str]:
    """What in a Keras model config needs code to load (empty: nothing)."""
    reasons = set()
    for node in kerasconfig.objects(config):
        name = node["class_name"]
        if isinstance(name, str) and name not in known:
            what = "holds code" if name in CODE_CLASSES else "is not a built-in Keras class"
            reasons.add(f"class {name!r} {what}")
        if CODE_KEYS & node.keys():
            reasons.add("a layer holds serialised code")
    return sorted(reasons)


def refuse(path: str | os.PathLike, why: str) -> None:
    raise UnsafeModelError(
        f"{path}: refused: {why}. Only zip .keras files (read in safe mode) and HDF5 files "
        "of built-in layers are loaded; save the model with model.save('model.keras')."
    )


def refuse_code(path: str | os.PathLike, custom_objects: Mapping[str, Any]) -> None:
    """Raise `UnsafeModelError` unless the HDF5 file at `path` loads without user code."""
    try:
        config = kerasconfig.read(path, FileFormat.HDF5)
    except ValueError as error:
        refuse(path, str(error))
    if config is None:
        refuse(path, "the HDF5 file holds no model_config (weights alone are not a model)")
    reasons = code_reasons(config, builtin_classes() | frozenset(custom_objects))
    if reasons:
        refuse(path, "; ".join(reasons))
