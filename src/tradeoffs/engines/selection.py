"""Best-epoch and patience bookkeeping, shared by every engine's epoch loop: which epoch's weights
to keep (`best_checkpoint`: the best validation accuracy) and when to stop (`early_stopping`: this
many epochs without a lower validation loss). Only validation figures enter it; the test set
never chooses anything (docs/architecture.md, "Validation split")."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Selection:
    """The running state, saved in every checkpoint (`as_dict`, `from_dict`)."""

    best_acc: float = -math.inf
    best_epoch: int | None = None
    best_loss: float = math.inf
    bad_epochs: int = 0

    def update(self, epoch: int, val_loss: float, val_acc: float) -> bool:
        """Record an epoch's validation loss and accuracy; True when its accuracy is the best so
        far (keep its weights)."""
        if val_loss < self.best_loss:
            self.best_loss, self.bad_epochs = val_loss, 0
        else:
            self.bad_epochs += 1
        if val_acc > self.best_acc:
            self.best_acc, self.best_epoch = val_acc, epoch
            return True
        return False

    def should_stop(self, patience: int | None) -> bool:
        """Whether `patience` epochs have passed without a better validation loss."""
        return bool(patience and self.bad_epochs >= patience)

    def restart_patience(self) -> None:
        """A new training phase (Keras fine-tuning) has its own patience."""
        self.best_loss, self.bad_epochs = math.inf, 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Selection:
        return cls(**state)
