"""How many of a quantiser's sorted midpoints lie below each element: the count
torch.searchsorted(midpoints, x) returns (side left), without its per-element binary search.

Method: the top bits of an fp32 value (sign, exponent, the first mantissa bits) name one of
2^bits cells, each a contiguous interval of the reals. Per cell, a table holds how many
midpoints lie below the cell, and the midpoints inside it: few, since a float-like codebook
spaces its levels logarithmically (fp8's E4M3-like grid puts one midpoint in each eighth of a
binade), though a learned one crowds them. The count of an element is then one table read plus
one comparison per midpoint a cell can hold, in one pass of `kernels.round_to_levels`. 12 bits
(3 mantissa bits, 4096 cells) for tensors from MIN_ELEMENTS; 16 bits (7 mantissa bits, 65536
cells, 16 times finer: a learned fp8 codebook crowds up to 6 midpoints into a 12-bit cell
within a few steps, rarely 2 into a 16-bit one) from FINE_ELEMENTS (the learnable quantiser's
one-call kernel, `round_to_values`, only where the 16-bit cells hold fewer). The tables are
rebuilt from the midpoints at each call (`kernels.cell_tables`); where they cost more than
they save (small tensors), where a cell holds more than
MAX_PER_CELL midpoints, off the CPU, for other dtypes or NaN midpoints, torch.searchsorted
does it. Both give the same integers for every input, NaN included (it counts every
midpoint); +-inf must not occur (a quantiser divides by the amax: |x| <= 1).

For a codebook of at most FEW_MIDPOINTS midpoints (fp2..fp4), and for any on a tensor
below MIN_ELEMENTS, no tables: `kernels.round_to_few_levels` compares every element with
every midpoint (branch-free, vectorised), the same integers again, +-inf included.
"""

from __future__ import annotations

import numpy as np
import torch

CELL_SHIFTS = (20, 16)  # 32 - 12 and 32 - 16 bits of each fp32 value name its cell
MAX_PER_CELL = 16  # comparisons per element (branch-free, ~1 cycle each) beyond which
# a binary search costs less: learned codebooks crowd a cell with several midpoints
MIN_ELEMENTS = 1 << 13  # below this, the tables (~65 us a call) cost more than a binary search
FINE_ELEMENTS = 1 << 18  # from here, the 16-bit tables (~80 us) where they thin the 12-bit cells
FEW_MIDPOINTS = 16  # up to this many (fp2..fp4), one vectorised comparison per midpoint and
# element (`kernels.round_to_few_levels`) beats the tables at every size; below MIN_ELEMENTS
# it beats a binary search up to MAX_COMPARED midpoints (fp8: 255 and the +inf)
MAX_COMPARED = 256
FEW_MIN_ELEMENTS = 1 << 9  # from here, that kernel (~1 us a call) beats torch's ~10 ops
NO_TOP = np.iinfo(np.int16).max  # the kernels' index cap for plain counts (< 2^15 midpoints)


def _cell_order(shift: int) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's rank in value order, and the cells of inf/NaN (exponent 255). Cell k holds
    the values whose int32 bit pattern, shifted right arithmetically, is k - cells/2: the
    non-negative floats fill the upper half in increasing order, the negative floats the lower
    half, their magnitude growing with k (so in decreasing order)."""
    cells = 1 << (32 - shift)
    k = np.arange(cells)
    rank = np.where(k < cells // 2, cells // 2 - 1 - k, k)
    exponent = ((k - cells // 2) >> (23 - shift)) & 0xFF
    return rank, exponent == 0xFF


_ORDER = {shift: _cell_order(shift) for shift in CELL_SHIFTS}


def _tables(midpoints: torch.Tensor, shift: int = CELL_SHIFTS[0]) -> tuple[torch.Tensor, int]:
    """Per cell, how many midpoints lie below it; and the most midpoints one cell holds
    (`kernels.cell_tables`)."""
    from tradeoffs.precision import kernels

    rank, non_finite = _ORDER[shift]
    below = np.empty(rank.size, np.int32)
    most = kernels.cell_tables(midpoints.detach().numpy(), shift, rank, non_finite, below)
    return torch.from_numpy(below), int(most)


def _searchsorted(x: torch.Tensor, midpoints: torch.Tensor) -> torch.Tensor:
    return torch.searchsorted(midpoints, x.contiguous())


def _usable(x: torch.Tensor, midpoints: torch.Tensor, by_comparisons: bool) -> bool:
    return (
        x.device.type == "cpu"
        and x.dtype == torch.float32 == midpoints.dtype
        and x.numel() >= (FEW_MIN_ELEMENTS if by_comparisons else MIN_ELEMENTS)
        and not np.isnan(midpoints.detach().numpy()).any()
    )


def _by_comparisons(
    x: torch.Tensor, scale: torch.Tensor, midpoints: torch.Tensor, levels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    from tradeoffs.precision import kernels  # numba: only for tensors where it pays

    index = np.empty(x.numel(), np.int16)
    out = torch.empty(x.shape, dtype=levels.dtype)
    kernels.round_to_few_levels(
        x.detach().contiguous().reshape(-1).numpy(),
        np.float32(scale.item()),
        midpoints.detach().numpy(),
        levels.detach().contiguous().numpy(),
        NO_TOP,
        index,
        out.view(-1).numpy(),
    )
    return torch.from_numpy(index).view(x.shape), out


def _by_tables(
    x: torch.Tensor, scale: torch.Tensor, midpoints: torch.Tensor, levels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The table path, or None where a cell holds more than MAX_PER_CELL midpoints."""
    shift = CELL_SHIFTS[x.numel() >= FINE_ELEMENTS]
    below, per_cell = _tables(midpoints, shift)
    if per_cell > MAX_PER_CELL:
        return None
    from tradeoffs.precision import kernels  # numba: only for large tensors

    padded = torch.cat([midpoints, midpoints.new_full((per_cell,), float("inf"))])
    index = np.empty(x.numel(), np.int16)
    out = torch.empty(x.shape, dtype=levels.dtype)
    kernels.round_to_levels(
        x.detach().contiguous().reshape(-1).numpy(),
        np.float32(scale.item()),
        shift,
        below.numpy(),
        padded.detach().numpy(),
        per_cell,
        levels.detach().contiguous().numpy(),
        NO_TOP,
        index,
        out.view(-1).numpy(),
    )
    return torch.from_numpy(index).view(x.shape), out


def round_to_levels(
    x: torch.Tensor, scale: torch.Tensor, midpoints: torch.Tensor, levels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(index, levels[index]) with index = torch.searchsorted(midpoints, x / scale) for sorted
    1-D `midpoints` and a 0-d `scale` (see module doc): one pass of
    `kernels.round_to_few_levels` for a few midpoints, of `kernels.round_to_levels` on the
    table path (index int16 on both), x / scale, searchsorted and a gather otherwise (int64)."""
    by_comparisons = _by_comparisons_at(x.numel(), midpoints.numel())
    fast = None
    if scale.dtype == torch.float32 and _usable(x, midpoints, by_comparisons):
        if by_comparisons:
            fast = _by_comparisons(x, scale, midpoints, levels)
        elif midpoints.numel() < 2**15:
            fast = _by_tables(x, scale, midpoints, levels)
    if fast is not None:
        return fast
    index = _searchsorted(x / scale, midpoints)
    return index, levels.index_select(0, index.reshape(-1)).view(x.shape)


def _by_comparisons_at(numel: int, midpoints: int) -> bool:
    """Whether a tensor of `numel` elements and a codebook of `midpoints` (the +inf guard
    included) take the comparisons (else the tables)."""
    return midpoints <= FEW_MIDPOINTS or (numel < MIN_ELEMENTS and midpoints <= MAX_COMPARED)


def round_to_values(
    x: torch.Tensor, values: torch.Tensor
) -> tuple[np.ndarray, torch.Tensor, np.float32] | None:
    """The learnable quantiser's forward on the kernels' path in one call
    (`kernels.round_to_values`): (index, out, scale) equal to scale = the amax of x, the
    codebook of the sorted `values` (`learnable._codebook`) and round_to_levels, but the
    index flat in numpy, a NaN element's at the top value (`kernels.round_to_values`; uint8
    for up to 256 values), and the scale fp32 (for `sums_to_values`); None where no kernel
    applies (then the caller takes those steps one by one)."""
    n = values.numel()
    by_comparisons = _by_comparisons_at(x.numel(), n)
    usable = (
        x.device.type == "cpu"
        and x.dtype == torch.float32 == values.dtype
        and values.device.type == "cpu"
        and x.numel() >= (FEW_MIN_ELEMENTS if by_comparisons else MIN_ELEMENTS)
        and n < 2**15
    )
    if not usable:
        return None
    from tradeoffs.precision import kernels

    shift = 0 if by_comparisons else CELL_SHIFTS[0]
    fine = CELL_SHIFTS[1] if x.numel() >= FINE_ELEMENTS else 0
    index = np.empty(x.numel(), np.uint8 if n <= 256 else np.int16)
    out = torch.empty(x.shape, dtype=x.dtype)
    scale, done = kernels.round_to_values(
        x.detach().contiguous().reshape(-1).numpy(),
        values.detach().contiguous().numpy(),
        shift,
        *_ORDER[CELL_SHIFTS[0]],
        (fine, *_ORDER[CELL_SHIFTS[1]]),
        MAX_PER_CELL,
        index,
        out.view(-1).numpy(),
    )
    return (index, out, np.float32(scale)) if done else None  # numba returns a float64


def count_below(x: torch.Tensor, midpoints: torch.Tensor) -> torch.Tensor:
    """torch.searchsorted(midpoints, x) for sorted 1-D `midpoints` (see module doc); int16 on
    the table path, int64 otherwise."""
    levels = torch.zeros(midpoints.numel() + 1)
    return round_to_levels(x, torch.ones(()), midpoints, levels)[0]


def sum_per_level(
    grad: torch.Tensor, scale: torch.Tensor, index: torch.Tensor, levels: int, dtype: torch.dtype
) -> torch.Tensor:
    """Per value of `index` (0..levels-1), the sum of grad * scale (a 0-d tensor) as `dtype`:
    index_add_'s, in element order; for round_to_levels' int16 indices of fp32 gradients
    `kernels.sum_per_level`'s float64 partial sums, within (n + 1) * 2^-24 * sum |terms| of
    those (docs/architecture.md, Precision)."""
    fused = index.dtype == torch.int16 and grad.dtype == torch.float32 == dtype == scale.dtype
    if fused and grad.device.type == "cpu":
        from tradeoffs.precision import kernels

        sums = np.zeros(levels, np.float32)
        flat = grad.contiguous().reshape(-1).numpy()
        kernels.sum_per_level(flat, np.float32(scale.item()), index.reshape(-1).numpy(), sums)
        return torch.from_numpy(sums)
    scaled = (grad * scale).to(dtype).reshape(-1)
    return scaled.new_zeros(levels).index_add_(0, index.reshape(-1), scaled)


def sums_to_values(grad: torch.Tensor, scale: np.float32, index: np.ndarray, values: int):
    """The gradient to the `values` values from `round_to_values`' index and scale: the per-
    level sums of grad * scale (`kernels.sum_per_level`, see sum_per_level)."""
    from tradeoffs.precision import kernels

    sums = np.zeros(values, np.float32)
    kernels.sum_per_level(grad.detach().contiguous().reshape(-1).numpy(), scale, index, sums)
    return torch.from_numpy(sums)
