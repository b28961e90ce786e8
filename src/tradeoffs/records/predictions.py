"""Per-example predictions of one evaluation, kept so that two runs can be compared on the same
examples later (paired tests, `analysis/significance.py`) without rerunning anything.

`eval/{dataset}_predictions.npz`: `label` and `predicted` (uint16 class indices) and
`confidence` (float16 top-1 probability), 5 bytes an example before compression; read without
pickle. A run's corrupted sets share one file, `eval_corrupted_predictions.npz`, whose arrays
are named `{set}/label` and so on. The sha256 of each file is in its evaluation record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tradeoffs import io
from tradeoffs.data.integrity import sha256_of

SUFFIX = "_predictions.npz"
CORRUPTED_FILE = "eval_corrupted_predictions.npz"
FIELDS = ("label", "predicted", "confidence")


@dataclass(frozen=True)
class ExamplePredictions:
    label: np.ndarray  # (N,) uint16 true class (training class indices)
    predicted: np.ndarray  # (N,) uint16 top-1 class
    confidence: np.ndarray  # (N,) float16 top-1 probability

    @property
    def correct(self) -> np.ndarray:
        return self.predicted == self.label

    def __len__(self) -> int:
        return int(self.label.size)


def from_probs(probs: np.ndarray, labels: np.ndarray) -> ExamplePredictions:
    """The compact form of (N, classes) probabilities and their true labels."""
    return ExamplePredictions(
        label=labels.astype(np.uint16),
        predicted=probs.argmax(axis=1).astype(np.uint16),
        confidence=probs.max(axis=1).astype(np.float16),
    )


def empty() -> ExamplePredictions:
    """What a skipped or failed run's evaluation keeps."""
    return ExamplePredictions(
        np.zeros(0, np.uint16), np.zeros(0, np.uint16), np.zeros(0, np.float16)
    )


def write_sets(path: Path, sets: Mapping[str, ExamplePredictions]) -> str:
    """Write one file holding `sets` (`""` names a file's only set) atomically; its sha256."""
    arrays = {
        f"{name}/{field}" if name else field: getattr(preds, field)
        for name, preds in sets.items()
        for field in FIELDS
    }
    with io.atomic_path(path) as tmp, tmp.open("wb") as handle:
        np.savez_compressed(handle, **arrays)
    return sha256_of(path)


def write(path: Path, preds: ExamplePredictions) -> str:
    """Write one evaluation's file atomically; its sha256."""
    return write_sets(path, {"": preds})


def read_sets(path: Path) -> dict[str, ExamplePredictions]:
    """Every set of a file written by `write_sets` (`""` for `write`'s one set)."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    names = {key.rpartition("/")[0] for key in arrays}
    return {
        name: ExamplePredictions(
            **{field: arrays[f"{name}/{field}" if name else field] for field in FIELDS}
        )
        for name in sorted(names)
    }


def read(path: Path) -> ExamplePredictions:
    """One evaluation's predictions (`write`)."""
    return read_sets(path)[""]


def read_run(run_dir: str | Path, dataset: str) -> ExamplePredictions | None:
    """A run's predictions on `dataset` (eval/{dataset}_predictions.npz), None when it has none
    (a run made before the files existed, a skipped run)."""
    path = Path(run_dir) / "eval" / f"{dataset}{SUFFIX}"
    if not path.exists():
        return None
    preds = read(path)
    return preds if len(preds) else None
