"""The best-epoch and patience tracker every engine's epoch loop uses, the only place that
decides which epoch's weights a run keeps and when it stops.

- `best_checkpoint`: keep the weights of the epoch with the best validation accuracy (the first
  such epoch on a tie); the model file then holds them and `best_epoch` names that epoch.
  Without it, or when the run failed, the last epoch's weights are saved.
- `early_stopping: N`: stop after N epochs in a row without a lower validation loss.

Only validation figures enter it; the test set never chooses anything (docs/architecture.md,
"Validation split"). An epoch without a validation split (nothing chooses) changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, TypeVar

from tradeoffs.engines.settings import TrainSettings

Weights = TypeVar("Weights")


@dataclass
class Counters:
    """The running state a checkpoint saves (`Selection.counters`, as a dict)."""

    best_acc: float = -math.inf
    best_epoch: int | None = None
    best_loss: float = math.inf
    bad_epochs: int = 0


@dataclass
class Selection(Generic[Weights]):
    """The tracker of one run: `best_checkpoint` and `patience` from its settings, the counters,
    and the best epoch's weights (a copy taken by the engine's `snapshot`, framework-typed)."""

    best_checkpoint: bool
    patience: int | None
    counters: Counters = field(default_factory=Counters)
    best_weights: Weights | None = None

    @classmethod
    def of(
        cls,
        s: TrainSettings,
        counters: dict[str, Any] | None = None,
        best_weights: Weights | None = None,
    ) -> Selection[Weights]:
        """A fresh tracker for settings `s`, or (resuming) one with a checkpoint's counters
        (`as_dict`) and best weights."""
        return cls(s.best_checkpoint, s.early_stopping, Counters(**(counters or {})), best_weights)

    @property
    def best_epoch(self) -> int | None:
        return self.counters.best_epoch

    def update(
        self,
        epoch: int,
        val_loss: float | None,
        val_acc: float | None,
        snapshot: Callable[[], Weights],
    ) -> bool:
        """Record an epoch's validation loss and accuracy; take `snapshot()` of its weights when
        they are the ones to keep. True when they were taken (new best weights to save)."""
        if val_loss is None or val_acc is None:  # no validation split: nothing chooses
            return False
        c = self.counters
        if val_loss < c.best_loss:
            c.best_loss, c.bad_epochs = val_loss, 0
        else:
            c.bad_epochs += 1
        if val_acc > c.best_acc:
            c.best_acc, c.best_epoch = val_acc, epoch
            if self.best_checkpoint:
                self.best_weights = snapshot()
                return True
        return False

    @property
    def stopped(self) -> bool:
        """Whether `patience` epochs have passed without a lower validation loss."""
        return bool(self.patience and self.counters.bad_epochs >= self.patience)

    def restart_patience(self) -> None:
        """A new training phase (Keras fine-tuning) has its own patience."""
        self.counters.best_loss, self.counters.bad_epochs = math.inf, 0

    def kept(self, failed: bool) -> Weights | None:
        """The best epoch's weights to save in place of the last epoch's, or None: save the
        last epoch's (no `best_checkpoint`, nothing chosen, or a failed run)."""
        return None if failed or not self.best_checkpoint else self.best_weights

    def saved_epoch(self, epochs_run: int, failed: bool) -> int | None:
        """The epoch whose weights the model file holds (train.json's `best_epoch`)."""
        if self.kept(failed) is not None:
            return self.best_epoch
        return epochs_run or None

    def as_dict(self) -> dict[str, Any]:
        """The counters, for a checkpoint (the engine saves `best_weights` its own way)."""
        return asdict(self.counters)
