"""One engine package per framework (`engines/torch/`, `engines/numba/`, `engines/keras/`), each
implementing `Engine` with the same files (fit, steps, data, device, checkpoint, modelfile,
bench; docs/architecture.md, "The engine contract"). Beside them: `settings.py` (the one
`TrainSettings` every engine reads) and `selection.py` (the one best-epoch tracker); what they
measure per epoch becomes history.csv and train.json in `tradeoffs.records`.

Imported lazily so a torch job never loads TensorFlow and the reverse.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    import numpy as np

    from tradeoffs.evaluation import Predictions
    from tradeoffs.runspec import RunSpec
    from tradeoffs.runtimes.base import Loaded

EpochHook = Callable[[int], None]  # called with the epoch number once its checkpoint is saved


class Engine(Protocol):
    """What every framework's engine implements, for one run (`spec`) at a time.

    - `train` writes the model file, history.csv and train.json (the model's own facts
      included), resuming from the run's checkpoint where one is left; `on_epoch_end` is
      called after each epoch, once its checkpoint is saved. It reads its options as
      `TrainSettings.of(spec)` and keeps and stops as `Selection` decides.
    - `predict` gives the trained model's probabilities on `dataset`'s test split.
    - `predictor` loads the model once and maps uint8 NHWC images to probabilities, adapted
      and normalised as `predict` does (the dashboard's path).
    - `loaded` gives the trained model and its test split to `tradeoffs.runtimes`, which
      checks and times every runtime the same way.
    - `benchmark` gives bench/eager.json's device facts (its name, the device memory one
      throughput batch takes); every timing comes from `tradeoffs.measure.sweep`.
    """

    def train(self, spec: RunSpec, on_epoch_end: EpochHook | None = None) -> None: ...

    def predict(self, spec: RunSpec, dataset: str) -> Predictions: ...

    def predictor(self, spec: RunSpec) -> Callable[[np.ndarray], np.ndarray]: ...

    def loaded(self, spec: RunSpec) -> Loaded: ...

    def benchmark(self, spec: RunSpec) -> dict[str, Any]: ...


def load(framework: str) -> Engine:
    """The engine package of `framework` (torch, numba or keras)."""
    return cast(Engine, importlib.import_module(f"tradeoffs.engines.{framework}"))
