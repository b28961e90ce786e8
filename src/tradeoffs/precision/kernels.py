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

CHUNK = 1024  # elements per inner loop: its scratch arrays stay in L1. Every inner loop runs
# exactly CHUNK times (a constant trip count, which the compiler vectorises fully; a variable
# one cost 2-3x); a tensor's last partial chunk goes through zero-padded scratch copies.


@numba.njit(cache=True, nogil=True)
def _cells_chunk(x, scale, shift, below, bounds, per_cell, levels, top, index, out, y, k, count):
    """round_to_levels on one chunk of exactly CHUNK elements (y, k, count: scratch)."""
    offset = below.size // 2
    y_bits = y.view(np.int32)
    for j in range(CHUNK):
        y[j] = x[j] / scale
    for j in range(CHUNK):  # unsigned indices: no negative-index wraparound to check
        first = below[np.uintp((y_bits[j] >> shift) + offset)]
        k[j] = first
        count[j] = first + np.int32(y[j] > bounds[np.uintp(first)])
    for c in range(1, per_cell):  # no branch on the data: its outcome is unpredictable
        for j in range(CHUNK):
            count[j] += np.int32(y[j] > bounds[np.uintp(k[j] + c)])
    for j in range(CHUNK):
        index[j] = min(count[j], top)
    for j in range(CHUNK):
        out[j] = levels[np.uintp(count[j])]


@numba.njit(cache=True, nogil=True)
def _one_per_cell_chunk(x, scale, shift, below, bounds, levels, top, index, out, y):
    """_cells_chunk where a cell holds at most one midpoint: the lookup, its one comparison,
    the index and the gather in one scalar loop (the lookups do not vectorise anyway), with
    no scratch counts written and read back (~10% of the pass)."""
    offset = below.size // 2
    y_bits = y.view(np.int32)
    for j in range(CHUNK):
        y[j] = x[j] / scale
    for j in range(CHUNK):
        first = below[np.uintp((y_bits[j] >> shift) + offset)]
        count = first + np.int32(y[j] > bounds[np.uintp(first)])
        index[j] = min(count, top)
        out[j] = levels[np.uintp(count)]


@numba.njit(cache=True, nogil=True)
def _cells_or_one(x, scale, shift, below, bounds, per_cell, levels, top, index, out, y, k, count):
    if per_cell == 1:
        _one_per_cell_chunk(x, scale, shift, below, bounds, levels, top, index, out, y)
    else:
        _cells_chunk(x, scale, shift, below, bounds, per_cell, levels, top, index, out, y, k, count)


@numba.njit(cache=True, nogil=True)
def round_to_levels(
    x: np.ndarray,
    scale: np.float32,
    shift: int,
    below: np.ndarray,
    bounds: np.ndarray,
    per_cell: int,
    levels: np.ndarray,
    top: int,
    index: np.ndarray,
    out: np.ndarray,
) -> None:
    """With y = x[i] / scale and k = how many `bounds` lie below y: out[i] = levels[k],
    index[i] = min(k, top). y's cell, (its int32 bits >> shift) + len(below) / 2, has
    below[cell] bounds below it and at most `per_cell` inside it; `bounds` ends with per_cell
    +infs."""
    scratch = np.empty(CHUNK, np.float32), np.empty(CHUNK, np.int32), np.empty(CHUNK, np.int32)
    whole = x.size - x.size % CHUNK
    for s in range(0, whole, CHUNK):
        e = s + CHUNK
        _cells_or_one(
            x[s:e],
            scale,
            shift,
            below,
            bounds,
            per_cell,
            levels,
            top,
            index[s:e],
            out[s:e],
            *scratch,
        )
    if whole < x.size:
        xs, ix, os = _tail(x, whole, index.dtype)
        _cells_or_one(xs, scale, shift, below, bounds, per_cell, levels, top, ix, os, *scratch)
        _copy_tail(ix, whole, index)
        _copy_tail(os, whole, out)


# The tails are copied element by element: an array-to-slice assignment compiles numba's
# shape-mismatch error message, 2 s of a cold compile of these kernels.
@numba.njit(cache=True, nogil=True)
def _tail(x, whole, index_dtype):
    """The last x.size - whole (< CHUNK) elements zero-padded to CHUNK, and outputs for them."""
    xs = np.zeros(CHUNK, np.float32)
    for j in range(x.size - whole):
        xs[j] = x[whole + j]
    return xs, np.empty(CHUNK, index_dtype), np.empty(CHUNK, np.float32)


@numba.njit(cache=True, nogil=True)
def _copy_tail(tail, whole, dst):
    """dst[whole:] = tail[: dst.size - whole]: a tail's outputs into place."""
    for j in range(dst.size - whole):
        dst[whole + j] = tail[j]


@numba.njit(cache=True, nogil=True)
def _few_chunk(x, scale, midpoints, levels, top, index, out, y, count) -> None:
    """round_to_few_levels on one chunk of exactly CHUNK elements (y, count: scratch)."""
    for j in range(CHUNK):
        y[j] = x[j] / scale
    for j in range(CHUNK):
        count[j] = 0
    for c in range(midpoints.size):
        midpoint = midpoints[c]
        for j in range(CHUNK):
            count[j] += np.int32(not y[j] <= midpoint)
    for j in range(CHUNK):
        index[j] = min(count[j], top)
    for j in range(CHUNK):
        out[j] = levels[np.uintp(count[j])]


@numba.njit(cache=True, nogil=True)
def round_to_few_levels(
    x: np.ndarray,
    scale: np.float32,
    midpoints: np.ndarray,
    levels: np.ndarray,
    top: int,
    index: np.ndarray,
    out: np.ndarray,
) -> None:
    """With y = x[i] / scale and k = how many `midpoints` are not >= y (all of them for a
    NaN y: searchsorted's count): out[i] = levels[k], index[i] = min(k, top). One vectorised
    comparison per midpoint and element, no tables: for codebooks of a few levels."""
    y = np.empty(CHUNK, np.float32)
    count = np.empty(CHUNK, np.int32)
    whole = x.size - x.size % CHUNK
    for s in range(0, whole, CHUNK):
        e = s + CHUNK
        _few_chunk(x[s:e], scale, midpoints, levels, top, index[s:e], out[s:e], y, count)
    if whole < x.size:
        xs, ix, os = _tail(x, whole, index.dtype)
        _few_chunk(xs, scale, midpoints, levels, top, ix, os, y, count)
        _copy_tail(ix, whole, index)
        _copy_tail(os, whole, out)


@numba.njit(cache=True, nogil=True)
def cell_tables(midpoints, shift, rank, non_finite, below) -> int:
    """below[k] = how many `midpoints` lie below cell k (all of them for the cells of inf and
    NaN); returns the most midpoints one cell holds. `rank`: each cell's rank in value order,
    `non_finite`: the cells of exponent 255 (`search._cell_order`)."""
    half = rank.size // 2
    per_rank = np.zeros(rank.size, np.int32)
    bits = midpoints.view(np.int32)
    for i in range(midpoints.size):
        per_rank[rank[(bits[i] >> shift) + half]] += 1
    below_rank = np.empty(rank.size, np.int32)
    total, most = 0, 0
    for r in range(rank.size):
        below_rank[r] = total
        total += per_rank[r]
        most = max(most, per_rank[r])
    for k in range(rank.size):
        below[k] = midpoints.size if non_finite[k] else below_rank[rank[k]]
    return most


SMALLEST_NORMAL_BITS = 0x00800000  # fp32's smallest normal, as int32 bits
INF_BITS = 0x7F800000


@numba.njit(cache=True, nogil=True)
def abs_max(x: np.ndarray) -> np.float32:
    """max |x| at least fp32's smallest normal; NaN if x holds one: the learnable quantiser's
    scale, as torch's aminmax, maximum and clamp_min give it. As the integer maximum of the
    bit patterns of |x| (sign bit cleared), whose order is the floats' (+inf above every
    finite value, NaN patterns above +inf): one vectorised integer reduction."""
    bits = x.view(np.int32)
    largest = np.int32(SMALLEST_NORMAL_BITS)
    for i in range(x.size):
        largest = max(largest, bits[i] & 0x7FFFFFFF)
    if largest > INF_BITS:
        return np.float32(np.nan)
    return np.array([largest], np.int32).view(np.float32)[0]


@numba.njit(cache=True, nogil=True)
def round_to_values(x, values, shift, rank, non_finite, fine, max_per_cell, index, out):
    """The learnable quantiser's forward in one call: scale = abs_max(x); the sorted
    `values`' midpoints (v[i] + v[i+1]) / 2 and one more at +inf, the levels v * scale + 0 and
    one more, NaN (as `learnable._codebook`); then index and out as `round_to_few_levels`
    (shift 0) or `round_to_levels` (cells of `shift` bits, tables from `cell_tables`; where
    `fine` = (shift, rank, non_finite) of finer cells, shift > 0, and a coarse cell holds
    more than one midpoint, the finer tables if their cells hold fewer: every midpoint a cell
    holds is one more pass, the finer tables cost ~80 us). The index stops at the top value,
    len(values) - 1: a NaN element (the NaN level, len(values)) joins it, as the backward
    adds their gradients (both are +-inf or NaN then: the scale is non-finite), so that 256
    values' indices fit a byte. Returns (scale, done): not done, nothing written, where a
    midpoint is NaN or a cell holds more than `max_per_cell`."""
    n = values.size
    midpoints = np.empty(n + max_per_cell, np.float32)  # +inf padding for the cells' path
    for i in range(n - 1):
        midpoints[i] = (values[i + 1] + values[i]) / np.float32(2)
    midpoints[n - 1 :] = np.inf
    for i in range(n - 1):
        if np.isnan(midpoints[i]):
            return np.float32(np.nan), False
    scale = abs_max(x)
    levels = np.empty(n + 1, np.float32)
    for i in range(n):
        levels[i] = values[i] * scale + np.float32(0)
    levels[n] = np.nan
    if shift == 0:
        round_to_few_levels(x, scale, midpoints[:n], levels, n - 1, index, out)
        return scale, True
    below = np.empty(rank.size, np.int32)
    per_cell = cell_tables(midpoints[:n], shift, rank, non_finite, below)
    fine_shift, fine_rank, fine_non_finite = fine
    if fine_shift > 0 and per_cell > 1:
        fine_below = np.empty(fine_rank.size, np.int32)
        fine_per_cell = cell_tables(
            midpoints[:n], fine_shift, fine_rank, fine_non_finite, fine_below
        )
        if fine_per_cell < per_cell:
            shift, below, per_cell = fine_shift, fine_below, fine_per_cell
    if per_cell > max_per_cell:
        return scale, False
    round_to_levels(x, scale, shift, below, midpoints, per_cell, levels, n - 1, index, out)
    return scale, True


LANES = 8  # interleaved partial sums per level: independent chains of additions


@numba.njit(cache=True, nogil=True)
def _sums_chunk(grad, scale, index, partial, terms):
    """sum_per_level's additions for one chunk of exactly CHUNK elements (terms: scratch):
    the fp32 products widened to float64 in one vectorised loop first, then the scalar
    scatter into partial[level, lane] (a lane's row constant across an unrolled group)."""
    for j in range(CHUNK):
        terms[j] = np.float64(grad[j] * scale)
    for start in range(0, CHUNK, LANES):
        for lane in range(LANES):
            partial[np.uintp(index[start + lane]), lane] += terms[start + lane]


@numba.njit(cache=True, nogil=True)
def sum_per_level(grad: np.ndarray, scale: np.float32, index: np.ndarray, sums: np.ndarray) -> None:
    """sums[l] = the sum of the fp32 products grad[i] * scale over the i with index[i] == l,
    accumulated in float64 in LANES partial sums (element i into lane i % LANES, the last
    grad.size % LANES into lane 0), the lanes added in order and rounded to fp32 once. Not
    index_add_'s one fp32 chain per level, whose every addition waits for the previous one:
    see docs/architecture.md, Precision, for the bound between the two."""
    partial = np.zeros((sums.size, LANES), np.float64)
    terms = np.empty(CHUNK, np.float64)
    chunked = grad.size - grad.size % CHUNK
    for start in range(0, chunked, CHUNK):
        end = start + CHUNK
        _sums_chunk(grad[start:end], scale, index[start:end], partial, terms)
    whole = grad.size - grad.size % LANES
    for i in range(chunked, whole):
        partial[index[i], i % LANES] += np.float64(grad[i] * scale)
    for i in range(whole, grad.size):
        partial[index[i], 0] += np.float64(grad[i] * scale)
    for level in range(sums.size):
        total = 0.0
        for lane in range(LANES):
            total += partial[level, lane]
        sums[level] = np.float32(total)


@numba.njit(cache=True, nogil=True)
def _grid_chunk(x, scale, largest, min_exponent, mantissa, out, y, quantum_bits, inverse_bits):
    """round_to_grid on one chunk of exactly CHUNK elements (the rest: scratch)."""
    y_bits = y.view(np.int32)
    quantum = quantum_bits.view(np.float32)
    inverse = inverse_bits.view(np.float32)
    for j in range(CHUNK):
        y[j] = min(max(np.float32(x[j] / scale), -largest), largest)
    for j in range(CHUNK):
        field = max(y_bits[j] & 0x7F800000, min_exponent) - mantissa
        quantum_bits[j] = field
        inverse_bits[j] = 0x7F000000 - field  # 2^-e for the quantum 2^e
    for j in range(CHUNK):
        rounded = np.float32(np.rint(y[j] * inverse[j]) * quantum[j])
        out[j] = np.float32(rounded * scale) + np.float32(x[j] - x[j])


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
    quantum_bits, inverse_bits = np.empty(CHUNK, np.int32), np.empty(CHUNK, np.int32)
    whole = x.size - x.size % CHUNK
    for s in range(0, whole, CHUNK):
        e = s + CHUNK
        _grid_chunk(
            x[s:e], scale, largest, min_exponent, mantissa, out[s:e], y, quantum_bits, inverse_bits
        )
    if whole < x.size:
        xs, _, os = _tail(x, whole, np.int16)
        _grid_chunk(xs, scale, largest, min_exponent, mantissa, os, y, quantum_bits, inverse_bits)
        _copy_tail(os, whole, out)
