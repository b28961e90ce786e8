"""A null in a record always says why: `measured` writes a value or a null with its reason, and
the reasons shared by several records are named here once."""

from __future__ import annotations

from typing import Any

NO_DEVICE_MEMORY = "CPU run: no device memory"
NOT_BINARY = "not a binary (larq) model"
BINARY_KEYS = ("binary_mac_ratio", "binary_params", "fp_params")  # larq's profile gives them


def measured(key: str, value: Any, reason: str) -> dict[str, Any]:
    """`{key: value}`, or `{key: None, key_reason: reason}` when the value could not be measured:
    a null in a record always says why."""
    return {key: value} if value is not None else {key: None, f"{key}_reason": reason}


def not_binary() -> dict[str, Any]:
    """The larq-only keys of a model without binary layers: each null, with the reason."""
    return {k: v for key in BINARY_KEYS for k, v in measured(key, None, NOT_BINARY).items()}
