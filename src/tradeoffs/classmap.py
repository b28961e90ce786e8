"""Which training class each class of another dataset counts as, when a run is evaluated on it.

A model predicts its training classes. Evaluating it on another dataset means something only
when that dataset's classes are the same ones (CINIC-10 and CIFAR-10 share their names), or
when the config maps each of them onto a distinct training class (`class_map`); anything else
is refused, by the config check before any job and again by the evaluate job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from tradeoffs.data.prepared import load_meta
from tradeoffs.runspec import RunSpec


class ClassMapError(ValueError):
    """The classes of an evaluation dataset cannot be matched to the training classes."""


def class_indices(
    train: Sequence[str], other: Sequence[str], mapping: Mapping[str, str] | None = None
) -> list[int]:
    """For each class of `other` (by index), the index of the training class it counts as.

    Without a mapping the two must hold the same names (in any order: matched by name)."""
    position = {name: i for i, name in enumerate(train)}
    if not mapping:
        if sorted(train) != sorted(other):
            raise ClassMapError(
                f"its classes {_short(other)} differ from the training classes {_short(train)}; "
                "evaluate only on a dataset with the same classes, or map each of its classes "
                "to a training class under the study's class_map"
            )
        return [position[name] for name in other]
    problems = [f"class {name!r} is not mapped" for name in other if name not in mapping]
    problems += [f"{name!r} is not one of its classes" for name in mapping if name not in other]
    problems += [
        f"{name!r} -> {target!r} is not a training class"
        for name, target in mapping.items()
        if target not in position
    ]
    targets = [mapping[name] for name in other if name in mapping]
    problems += [
        f"training class {t!r} is the target of more than one class"
        for t in dict.fromkeys(t for t in targets if targets.count(t) > 1)
    ]
    if problems:
        raise ClassMapError(
            "class_map: " + "; ".join(problems) + f" (training classes: {_short(train)})"
        )
    return [position[mapping[name]] for name in other]


def class_alignment(spec: RunSpec, dataset: str) -> tuple[list[str], list[int]]:
    """The training classes (what an evaluation reports) and, per class of `dataset`, the
    index of the training class it counts as, from the prepared datasets' meta.json."""
    train = load_meta(spec.prepared_dir())["classes"]
    if dataset == spec.dataset:
        return train, list(range(len(train)))
    other = load_meta(spec.prepared_dir(dataset))["classes"]
    mapping = spec.study_config.get("class_map", {}).get(dataset)
    return train, class_indices(train, other, mapping)


def _short(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return f"[{shown}{', ...' if len(names) > limit else ''}] ({len(names)})"


def is_identity(indices: Sequence[int]) -> bool:
    return list(indices) == list(range(len(indices)))


def remap_labels(labels: np.ndarray, indices: Sequence[int]) -> np.ndarray:
    """Labels of the evaluation dataset as training class indices."""
    return np.asarray(indices, dtype=np.int64)[labels]
