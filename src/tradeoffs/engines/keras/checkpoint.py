"""The per-epoch checkpoint that lets a killed Keras training job resume bit-identically on CPU:
`keras_checkpoint/` holds a TensorFlow checkpoint of the model, its optimiser and its layers'
random generators (dropout), the best weights so far as `.npz`, and `state.json` naming them
with the loop's progress and the tracker's counters, written last (atomically)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tradeoffs import io
from tradeoffs.engines.keras.steps import Phase
from tradeoffs.engines.selection import Selection
from tradeoffs.records.history import Epoch, epochs_as_json

DIRNAME = "keras_checkpoint"


@dataclass
class Progress:
    """What the loop carries from epoch to epoch besides the tracker: the epochs so far, the
    epochs run in each phase, the phases early stopping ended."""

    epochs: list[Epoch]
    phase_epochs: list[int]
    stopped_phases: list[int]

    @classmethod
    def start(cls, phases: int) -> Progress:
        return cls([], [0] * phases, [])

    def next_phase(self, plan: list[Phase]) -> int | None:
        """The phase the next epoch belongs to: the first with epochs left that early stopping
        has not ended; None when every phase is over."""
        for index, phase in enumerate(plan):
            if self.phase_epochs[index] < phase.epochs and index not in self.stopped_phases:
                return index
        return None


@dataclass(frozen=True)
class Saved:
    """A checkpoint read back: the progress, the tracker's counters and best weights, and the
    TensorFlow checkpoint's prefix."""

    progress: Progress
    selection: dict[str, Any]
    best_weights: list[np.ndarray] | None
    tf_prefix: str


def tracked(model: tf.keras.Model, optimizer: tf.keras.optimizers.Optimizer) -> tf.train.Checkpoint:
    """The TensorFlow checkpoint of a phase: the model, its optimiser and the layers' random
    generators."""
    return tf.train.Checkpoint(model=model, optimizer=optimizer, **_random_generators(model))


def _random_generators(model: tf.keras.Model) -> dict[str, tf.random.Generator]:
    """The layers' random generators (dropout), which a model checkpoint leaves out: a layer
    without weights is not saved."""
    found = (getattr(layer, "_random_generator", None) for layer in model.submodules)
    generators = [g._generator for g in found if getattr(g, "_generator", None) is not None]
    return {f"rng{i}": generator for i, generator in enumerate(generators)}


def save(
    folder: Path,
    checkpoint: tf.train.Checkpoint,
    config_hash: str,
    progress: Progress,
    chosen: Selection[list[np.ndarray]],
    new_best: bool,
) -> None:
    """The epoch's TensorFlow checkpoint and (when `new_best`) the best weights under fresh
    names, then state.json naming them (atomically), then the files it no longer names."""
    epoch = len(progress.epochs)
    folder.mkdir(parents=True, exist_ok=True)
    checkpoint.write(str(folder / f"epoch{epoch}"))
    best_file = (_read_state(folder, config_hash) or {}).get("best_file")
    if new_best and chosen.best_weights is not None:
        best_file = f"best{epoch}.npz"
        with io.atomic_path(folder / best_file) as tmp, tmp.open("wb") as handle:
            np.savez(handle, **{f"w{i}": w for i, w in enumerate(chosen.best_weights)})
    state = {
        "config_hash": config_hash,
        "epochs": epochs_as_json(progress.epochs),
        "selection": chosen.as_dict(),
        "stopped_phases": progress.stopped_phases,
        "phase_epochs": progress.phase_epochs,
        "tf_prefix": f"epoch{epoch}",
        "best_file": best_file,
    }
    io.write_json(folder / "state.json", state)
    keep = {"state.json", best_file}
    for path in folder.iterdir():
        if path.name not in keep and not path.name.startswith(f"epoch{epoch}."):
            path.unlink()


def load(folder: Path, config_hash: str) -> Saved | None:
    """The checkpoint if it was written under the same study config, else None."""
    state = _read_state(folder, config_hash)
    if state is None:
        return None
    best = None
    if state["best_file"]:
        with np.load(folder / state["best_file"], allow_pickle=False) as npz:
            best = [npz[f"w{i}"] for i in range(len(npz.files))]
    progress = Progress(
        [Epoch.from_row(row) for row in state["epochs"]],
        state["phase_epochs"],
        state["stopped_phases"],
    )
    return Saved(progress, state["selection"], best, state["tf_prefix"])


def restore(
    folder: Path,
    saved: Saved,
    checkpoint: tf.train.Checkpoint,
    sample: np.ndarray,
    within_phase: bool,
) -> None:
    """Read the checkpoint (model, optimiser, random generators) into the phase's checkpoint
    objects. The optimiser's slots are built and the model called on `sample` first, so that
    reading assigns what is otherwise created lazily, now (a compiled model tracks its
    optimiser: left to a deferred restore, an optimiser attached later would silently take the
    saved one's state). Inside the phase it was saved in everything must match; at the start of
    a later phase (fine-tuning may train more layers than the saved optimiser has slots for)
    what matches is read, and the caller compiles the phase's fresh optimiser afterwards."""
    model, optimizer = checkpoint.model, checkpoint.optimizer
    optimizer.build(model.trainable_variables)
    model(sample, training=True)
    status = checkpoint.read(str(folder / saved.tf_prefix))
    if within_phase:
        status.assert_existing_objects_matched()
    else:
        status.expect_partial()


def restore_weights(folder: Path, saved: Saved, model: tf.keras.Model) -> None:
    """The saved model's weights alone (a job killed after its last epoch's checkpoint)."""
    tf.train.Checkpoint(model=model).read(str(folder / saved.tf_prefix)).expect_partial()


def _read_state(folder: Path, config_hash: str) -> dict[str, Any] | None:
    """state.json if it was written under the same study config, else None."""
    path = folder / "state.json"
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text())
    except ValueError:
        return None
    return state if state.get("config_hash") == config_hash else None
