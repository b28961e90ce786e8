"""The per-epoch checkpoint that lets a killed training job resume bit-identically.

It holds everything the next epoch depends on: weights, optimiser and schedule state, every
random number generator (torch CPU/CUDA, NumPy, Python, the augmentation generator), the epochs
so far and the early-stopping / best-weights bookkeeping. The sample order needs no state: it is
`seeding.epoch_order(seed, epoch, n)`. Everything is stored as tensors, numbers and strings, so it
is read with `weights_only=True`: a planted file cannot run code. Written atomically: a kill
mid-write leaves the previous epoch's checkpoint.
"""

from __future__ import annotations

import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tradeoffs import io
from tradeoffs.fileformat import FileFormat, detect

FILENAME = "checkpoint.pt"


def rng_states(generator: torch.Generator) -> dict[str, Any]:
    """Every generator's state as tensors and plain numbers."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None,
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss],
        "python": list(random.getstate()),
        "data": generator.get_state(),
    }


def restore_rng_states(states: dict[str, Any], generator: torch.Generator) -> None:
    torch.set_rng_state(states["torch"])
    if states["cuda"] is not None:
        torch.cuda.set_rng_state_all(states["cuda"])
    kind, keys, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = states["python"]
    random.setstate((version, tuple(internal), gauss_next))
    generator.set_state(states["data"])


def save(path: Path, state: dict[str, Any]) -> None:
    with io.atomic_path(path) as tmp:
        torch.save(state, tmp)


def load(path: Path, config_hash: str) -> dict[str, Any] | None:
    """The checkpoint at `path` if it was written under the same study config, else None (a
    checkpoint left by other settings must not leak into this run; one that holds anything but
    tensors and plain data is not ours and is not read)."""
    if not path.exists():
        return None
    found = detect(path)
    if found is not FileFormat.TORCH_ZIP:
        print(f"ignoring {path.name}: it holds {found.value}, not a torch checkpoint", flush=True)
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as error:
        print(f"ignoring {path.name}: not a checkpoint this engine wrote ({error})", flush=True)
        return None
    return state if state.get("config_hash") == config_hash else None
