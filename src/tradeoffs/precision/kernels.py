"""The quantisers' passes over a large fp32 tensor as numba loops. In eager torch each step
of a quantiser (divide by the scale, find the level, gather it, add x - x for the straight-
through estimator) is its own pass over the tensor and its own allocation; here each loop
reads the tensor once. Same arithmetic, operation for operation, as the torch ops they replace
(IEEE fp32 division and products, rint's ties to even), so the same bits; but for the
per-level sums of the backward (`sum_per_level`: float64 partial sums, bounded against the
fp32 chain in docs/architecture.md, Precision).

Compiled on first use and cached next to this file (numba's `cache=True`); imported only for
tensors large enough to pay for it (`search.FEW_MIN_ELEMENTS`, `search.MIN_ELEMENTS`), so
tiny models never load numba.
"""

from __future__ import annotations

import numba
import numpy as np

CHUNK = 1024  # elements per inner loop: its scratch arrays stay in L1


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
    y = np.empty(CHUNK, np.float32)
    y_bits = y.view(np.int32)
    cell = np.empty(CHUNK, np.intp)
    for start in range(0, x.size, CHUNK):
        m = min(CHUNK, x.size - start)
        for j in range(m):  # two loops the compiler vectorises
            y[j] = x[start + j] / scale
        for j in range(m):
            cell[j] = (y_bits[j] >> shift) + offset
        for j in range(m):  # unsigned indices: no negative-index wraparound to check
            first = np.uintp(below[cell[j]])
            k = first
            for c in range(per_cell):  # no branch on the data: its outcome is unpredictable
                k += np.uintp(y[j] > bounds[first + np.uintp(c)])
            index[start + j] = k
            out[start + j] = levels[k]


@numba.njit(cache=True, nogil=True)
def round_to_few_levels(
    x: np.ndarray,
    scale: np.float32,
    midpoints: np.ndarray,
    levels: np.ndarray,
    index: np.ndarray,
    out: np.ndarray,
) -> None:
    """With y = x[i] / scale: index[i] = how many `midpoints` are not >= y (all of them for
    a NaN y: searchsorted's count), out[i] = levels[index[i]]. One vectorised comparison per
    midpoint and element, no tables: for codebooks of a few levels."""
    y = np.empty(CHUNK, np.float32)
    count = np.empty(CHUNK, np.int32)
    for start in range(0, x.size, CHUNK):
        m = min(CHUNK, x.size - start)
        for j in range(m):
            y[j] = x[start + j] / scale
            count[j] = 0
        for c in range(midpoints.size):
            midpoint = midpoints[c]
            for j in range(m):
                count[j] += np.int32(not y[j] <= midpoint)
        for j in range(m):
            index[start + j] = count[j]
            out[start + j] = levels[count[j]]


LANES = 8  # interleaved partial sums per level: independent chains of additions


@numba.njit(cache=True, nogil=True)
def sum_per_level(grad: np.ndarray, scale: np.float32, index: np.ndarray, sums: np.ndarray) -> None:
    """sums[l] = the sum of the fp32 products grad[i] * scale over the i with index[i] == l,
    accumulated in float64 in LANES partial sums (element i into lane i % LANES), the lanes
    added in order and rounded to fp32 once. Not index_add_'s one fp32 chain per level,
    whose every addition waits for the previous one: see docs/architecture.md, Precision,
    for the bound between the two."""
    partial = np.zeros((LANES, sums.size), np.float64)
    whole = grad.size - grad.size % LANES
    for start in range(0, whole, LANES):
        for lane in range(LANES):
            i = start + lane
            partial[lane, index[i]] += np.float64(grad[i] * scale)
    for i in range(whole, grad.size):
        partial[0, index[i]] += np.float64(grad[i] * scale)
    for level in range(sums.size):
        total = 0.0
        for lane in range(LANES):
            total += partial[lane, level]
        sums[level] = np.float32(total)


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
    straight-through estimator's x - x. Dividing by the quantum, a power of two, is
    multiplying by its inverse (built in the exponent field): the same bits."""
    y = np.empty(CHUNK, np.float32)
    y_bits = y.view(np.int32)
    quantum_bits = np.empty(CHUNK, np.int32)
    quantum = quantum_bits.view(np.float32)
    inverse_bits = np.empty(CHUNK, np.int32)
    inverse = inverse_bits.view(np.float32)
    for start in range(0, x.size, CHUNK):
        m = min(CHUNK, x.size - start)
        for j in range(m):  # three loops the compiler vectorises
            y[j] = min(max(np.float32(x[start + j] / scale), -largest), largest)
        for j in range(m):
            field = max(y_bits[j] & 0x7F800000, min_exponent) - mantissa
            quantum_bits[j] = field
            inverse_bits[j] = 0x7F000000 - field  # 2^-e for the quantum 2^e
        for j in range(m):
            xj = x[start + j]
            rounded = np.float32(np.rint(y[j] * inverse[j]) * quantum[j])
            out[start + j] = np.float32(rounded * scale) + np.float32(xj - xj)
