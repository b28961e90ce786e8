"""Parameter, MAC and footprint counts from larq's model profile (the table of
`larq.models.summary`): binary weights count 1 bit, everything else 32."""

from __future__ import annotations

import larq as lq
import tensorflow as tf

from tradeoffs.records.nulls import measured


def profile(model: tf.keras.Model) -> dict[str, float | int | None]:
    """The size and compute keys: `params`, `binary_params`, `fp_params`, `macs`,
    `flops` (2 per MAC), `binary_mac_ratio` and `est_footprint_mb` (1 bit per binary weight)."""
    prof = lq.models.ModelProfile(model)
    macs = prof.op_count("mac")
    binary_macs = prof.op_count("mac", 1)
    params = prof.weight_count()
    binary_params = prof.weight_count(1)
    return {
        "params": params,
        "binary_params": binary_params,
        "fp_params": params - binary_params,
        "macs": macs,
        "flops": 2 * macs,
        **measured("binary_mac_ratio", binary_macs / macs if macs else None, "no MACs"),
        "est_footprint_mb": prof.memory / 8 / 2**20,
    }
