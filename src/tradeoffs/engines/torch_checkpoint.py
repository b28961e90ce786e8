"""The per-epoch checkpoint that lets a killed training job resume bit-identically.

It holds everything the next epoch depends on: weights, optimiser and schedule state, every
random number generator (torch CPU/CUDA, NumPy, Python, the augmentation generator), the history
and the early-stopping / best-weights bookkeeping. The sample order needs no state: it is
`seeding.epoch_order(seed, epoch, n)`. Written atomically: a kill mid-write leaves the previous
epoch's checkpoint.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tradeoffs import io

FILENAME = "checkpoint.pt"


def rng_states(generator: torch.Generator) -> dict[str, Any]:
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None,
        "numpy": np.random.get_state(),
        "python": random.getstate(),
        "data": generator.get_state(),
    }


def restore_rng_states(states: dict[str, Any], generator: torch.Generator) -> None:
    torch.set_rng_state(states["torch"])
    if states["cuda"] is not None:
        torch.cuda.set_rng_state_all(states["cuda"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])
    generator.set_state(states["data"])


def save(path: Path, state: dict[str, Any]) -> None:
    with io.atomic_path(path) as tmp:
        torch.save(state, tmp)


def load(path: Path, config_hash: str) -> dict[str, Any] | None:
    """The checkpoint at `path` if it was written under the same study config, else None (a
    checkpoint left by other settings must not leak into this run)."""
    if not path.exists():
        return None
    # Our own file, holding NumPy / Python RNG states that weights_only cannot read.
    state = torch.load(path, map_location="cpu", weights_only=False)
    return state if state.get("config_hash") == config_hash else None
