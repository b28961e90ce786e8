"""The quantisers' passes over a large fp32 tensor as numba loops. In eager torch each step
of a quantiser (divide by the scale, find the level, gather it, add x - x for the straight-
through estimator) is its own pass over the tensor and its own allocation; here each loop
reads the tensor once. Same arithmetic, operation for operation, as the torch ops they replace
(IEEE fp32 division and products, rint's ties to even, sums in element order), so the same
bits.

Compiled on first use and cached next to this file (numba's `cache=True`); imported only for
tensors large enough to pay for it (`search.MIN_ELEMENTS`), so small models never load numba.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def round_to_levels(
    x: np.ndarray,
    scale: np.float32,
    shift: int,
    below: np.ndarray,
    bounds: np.ndarray,
    per_cell: int,
    levels: np.ndarray,
    index: np.ndarray,
    out: np.ndarray,
) -> None:
    """With y = x[i] / scale: index[i] = how many `bounds` lie below y, out[i] =
    levels[index[i]]. y's cell, (its int32 bits >> shift) + len(below) / 2, has below[cell]
    bounds below it and at most `per_cell` inside it; `bounds` ends with per_cell +infs."""
    offset = below.size // 2
    y = np.empty(1, np.float32)
    y_bits = y.view(np.int32)
    for i in range(x.size):
        y[0] = x[i] / scale
        first = below[(y_bits[0] >> shift) + offset]
        k = first
        for j in range(per_cell):  # no branch on the data: its outcome is unpredictable
            k += y[0] > bounds[first + j]
        index[i] = k
        out[i] = levels[k]


@numba.njit(cache=True, nogil=True)
def sum_per_level(grad: np.ndarray, scale: np.float32, index: np.ndarray, sums: np.ndarray) -> None:
    """sums[index[i]] += grad[i] * scale, in element order (fp32 products and sums)."""
    for i in range(grad.size):
        sums[index[i]] += grad[i] * scale


@numba.njit(cache=True, nogil=True)
def round_to_grid(
    x: np.ndarray,
    scale: np.float32,
    largest: np.float32,
    min_exponent: int,
    mantissa: int,
    out: np.ndarray,
) -> None:
    """out[i] = round_to_grid(x[i] / scale) * scale + (x[i] - x[i]): `ocp.round_to_grid`
    (clamp to +-largest, the quantum from the fp32 exponent field, at least `min_exponent`
    (a biased field) less `mantissa` (a field), rint) under one scale, plus the
    straight-through estimator's x - x."""
    y = np.empty(1, np.float32)
    y_bits = y.view(np.int32)
    q_bits = np.empty(1, np.int32)
    quantum = q_bits.view(np.float32)
    for i in range(x.size):
        v = np.float32(x[i] / scale)
        if v > largest:
            v = largest
        elif v < -largest:
            v = -largest
        y[0] = v
        q_bits[0] = max(y_bits[0] & 0x7F800000, min_exponent) - mantissa
        rounded = np.float32(np.rint(np.float32(v / quantum[0])) * quantum[0])
        out[i] = np.float32(rounded * scale) + np.float32(x[i] - x[i])
