"""`TrainSettings`: a run's `train:` block as one typed, frozen object, the only form in which
an engine reads its training options.

Built once per job from the run's checked config (`TrainSettings.of(spec)`: the study's
`train:` with the model's `train_by_model` recipe merged in, every default filled by the config
check from the schema). It fills nothing itself: a missing key is a KeyError, and the fields are
the schema's `train` properties, one for one (`tests/test_engine_contract.py`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradeoffs.runspec import RunSpec


@dataclass(frozen=True)
class TrainSettings:
    """What the schema's `train` properties describe (their meanings and defaults are there)."""

    epochs: int
    batch_size: int
    optimizer: str
    lr: float
    momentum: float
    weight_decay: float
    schedule: str
    label_smoothing: float
    augment: bool
    early_stopping: int | None
    best_checkpoint: bool
    validation_fraction: float
    limit_train: int | None
    image_size: int | None
    channels_last: bool
    autocast: str
    tensorboard: bool
    fine_tune_epochs: int

    @classmethod
    def from_cfg(cls, cfg: dict[str, Any]) -> TrainSettings:
        """From a checked `train:` block (every key present)."""
        return cls(**{f.name: cfg[f.name] for f in dataclasses.fields(cls)})

    @classmethod
    def of(cls, spec: RunSpec) -> TrainSettings:
        """The run's settings (its study's `train:` as its model sees it)."""
        return cls.from_cfg(spec.train_cfg)

    @property
    def held_out_fraction(self) -> float | None:
        """The share of training images held out to choose on, or None: held out only when
        something chooses on it (`best_checkpoint`, `early_stopping`)."""
        if self.best_checkpoint or self.early_stopping:
            return self.validation_fraction
        return None
