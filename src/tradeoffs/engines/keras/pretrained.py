"""A trained Keras model imported as a run's model.keras, in place of training: a `.keras` zip
read in safe mode, or an HDF5 file whose config holds no Lambda or custom layer (checked before
Keras reads it: the legacy HDF5 path has no safe mode). The model takes the engine's input,
float images in [0, 255] of the run's shape (32x32x3, or `train.image_size` square), and
returns num_classes probabilities."""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # larq runs on Keras 2 only; before TF loads

from pathlib import Path

import numpy as np

from tradeoffs import kerasconfig
from tradeoffs.data.prepared import load_meta
from tradeoffs.engines.keras import modelfile
from tradeoffs.engines.keras.bench import model_facts
from tradeoffs.engines.keras.data import run_shape
from tradeoffs.engines.keras.device import configure, device_name, device_scope
from tradeoffs.fileformat import require
from tradeoffs.models.keras import load_model
from tradeoffs.pretrained import (
    ALLOW,
    FORMATS,
    NOT_TRAINED,
    PretrainedError,
    keras_code_refs,
    provenance_of,
)
from tradeoffs.records.provenance import now
from tradeoffs.records.train import not_trained_keys, write_outputs
from tradeoffs.runspec import RunSpec


def import_file(spec: RunSpec) -> None:
    """Write the run's model.keras, a header-only history.csv and train.json."""
    started = now()
    entry = spec.pretrained
    path = Path(entry["file"])
    fmt = require(path, *FORMATS["keras"])
    refs = keras_code_refs(kerasconfig.read(path, fmt))
    if refs:
        raise PretrainedError(f"{path} holds {', '.join(refs)}; {ALLOW}")
    configure(spec)
    classes = load_meta(spec.prepared_dir())["num_classes"]
    shape = run_shape(spec)
    with device_scope(spec):
        model = load_model(path)
        try:
            out = np.asarray(model(np.zeros((2, *shape), np.float32), training=False))
        except Exception as error:  # noqa: BLE001  (Keras raises its own error types)
            raise PretrainedError(
                f"{path}: Keras cannot run it on 2 images of shape {shape}: "
                f"{type(error).__name__}: {error}; set the study's train.image_size to the "
                "side the model was trained at"
            ) from None
    if out.shape != (2, classes):
        raise PretrainedError(
            f"{path}: its output for 2 images of shape {shape} is {out.shape}, not "
            f"(2, {classes}): the Keras engine feeds the run's images (32x32x3, or "
            "train.image_size square) and reads num_classes probabilities"
        )
    modelfile.save(spec.model_path, model)
    write_outputs(
        spec,
        [],
        best_epoch=None,
        failure=None,
        device_name=device_name(spec),
        started=started,
        provenance_extra=provenance_of(entry),
        **not_trained_keys(NOT_TRAINED),
        early_stopped=False,
        train_samples=0,
        **model_facts(modelfile.load(spec.model_path), spec.model_path),
    )
