"""The per-epoch checkpoint that lets a killed numba training job resume bit-identically:
`checkpoint.npz` holds the parameters, the momentum, the best epoch's parameters (when kept),
and as JSON text the epochs so far and the tracker's counters. Arrays only, read back without
pickle; written atomically."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tradeoffs import io
from tradeoffs.engines.numba.device import host
from tradeoffs.engines.selection import Selection
from tradeoffs.fileformat import FileFormat, detect
from tradeoffs.records.history import Epoch, epochs_as_json

FILENAME = "checkpoint.npz"


@dataclass(frozen=True)
class Saved:
    """What a checkpoint holds."""

    theta: np.ndarray
    velocity: np.ndarray
    epochs: list[Epoch]
    selection: dict[str, Any]  # the tracker's counters (`Selection.as_dict`)
    best_theta: np.ndarray | None


def save(
    path: Path,
    config_hash: str,
    model: Any,
    epochs: list[Epoch],
    chosen: Selection[np.ndarray],
) -> None:
    meta = {
        "config_hash": config_hash,
        "epochs": epochs_as_json(epochs),
        "selection": chosen.as_dict(),
    }
    best = {} if chosen.best_weights is None else {"best_theta": chosen.best_weights}
    with io.atomic_path(path) as tmp, tmp.open("wb") as handle:
        np.savez(
            handle,
            theta=host(model.theta),
            velocity=host(model.velocity),
            meta=np.array(json.dumps(meta)),
            **best,
        )


def load(path: Path, config_hash: str) -> Saved | None:
    """The checkpoint's state if it was written under the same study config, else None."""
    if detect(path) is not FileFormat.NUMPY_ZIP:
        if path.exists():
            print(f"ignoring {path.name}: not a checkpoint this engine wrote", flush=True)
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            theta, velocity = npz["theta"], npz["velocity"]
            best_theta = npz["best_theta"] if "best_theta" in npz.files else None
    except (OSError, ValueError, KeyError) as error:
        print(f"ignoring {path.name}: not a checkpoint this engine wrote ({error})", flush=True)
        return None
    if meta["config_hash"] != config_hash:
        return None
    epochs = [Epoch.from_row(row) for row in meta["epochs"]]
    return Saved(theta, velocity, epochs, meta["selection"], best_theta)
