"""A Keras model file's config, read as JSON without Keras and without running any of it.

What loading a Keras file would run is decided by the classes its config names: the planning
side (`tradeoffs.pretrained`, no framework imported) and the loader (`models.keras.vetting`)
both read the config here and walk the same objects.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tradeoffs.fileformat import FileFormat


def read(path: str | Path, fmt: FileFormat) -> Any:
    """The model config of a zip `.keras` (its config.json) or an HDF5 file (its `model_config`
    attribute; None when the file holds none). A file that cannot be read or parsed raises
    ValueError with the reason."""
    if fmt is FileFormat.KERAS_ZIP:
        with zipfile.ZipFile(path) as archive:
            text = archive.read("config.json")
    else:
        import h5py  # TensorFlow's dependency; present wherever Keras files are read

        try:
            with h5py.File(path, "r") as handle:
                text = handle.attrs.get("model_config")
        except OSError as error:
            raise ValueError(f"not a readable HDF5 file ({error})") from None
        if text is None:
            return None
    try:
        return json.loads(text.decode() if isinstance(text, bytes) else str(text))
    except ValueError as error:
        raise ValueError(f"its model config is not JSON ({error})") from None


def objects(config: Any) -> Iterator[Mapping[str, Any]]:
    """Every object the config describes (a mapping with a `class_name`), nested included."""
    if isinstance(config, Mapping):
        if "class_name" in config:
            yield config
        for value in config.values():
            yield from objects(value)
    elif isinstance(config, list):
        for value in config:
            yield from objects(value)
