"""The static costs of the numba model that train.json records: parameters, sizes, MACs."""

from __future__ import annotations

from typing import Any

from tradeoffs.models.numba import layout
from tradeoffs.records.nulls import not_binary
from tradeoffs.runspec import RunSpec


def model_facts(spec: RunSpec, num_classes: int) -> dict[str, Any]:
    """train.json's facts of the model just saved: parameters, sizes, MACs (fp32 throughout)."""
    params = layout.param_count(num_classes)
    macs = layout.macs(num_classes)
    return {
        "params": params,
        "size_disk_mb": spec.model_path.stat().st_size / 2**20,
        "size_mem_mb": params * 4 / 2**20,
        "est_footprint_mb": params * 4 / 2**20,
        "macs": macs,
        "flops": 2 * macs,
        **not_binary(),
    }
