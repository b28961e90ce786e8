"""Deployment runtimes: a trained model exported to what it would be served with (ONNX Runtime,
torch.compile, int8, TFLite, Larq Compute Engine), checked against the eager model, then timed.

This module is pure data (no framework import), so the Snakefile plans with it in milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT = "eager"  # the framework's own inference path; every run is benchmarked with it
RUNTIMES = {
    "torch": ("eager", "compile", "onnxruntime", "int8"),
    "numba": ("eager",),
    "keras": ("eager", "tflite", "lce"),
}
# What the correctness check asks of a runtime: "float" runtimes must agree with eager on at
# least AGREEMENT_MIN of the test set's top-1 predictions; quantised ones ("int8", "binary")
# change the predictions on purpose, so their measured accuracy is recorded instead.
KINDS = {"int8": "int8", "lce": "binary"}
AGREEMENT_MIN = 0.99


def kind(runtime: str) -> str:
    return KINDS.get(runtime, "float")


def all_names() -> list[str]:
    return list(dict.fromkeys(name for names in RUNTIMES.values() for name in names))


def runtimes_for(framework: str, requested: Iterable[str]) -> list[str]:
    """The runtimes one run is benchmarked with: eager first, then those of `requested` that
    the run's framework offers (a study may mix frameworks)."""
    offered = RUNTIMES[framework]
    return list(dict.fromkeys([DEFAULT, *(r for r in requested if r in offered)]))
