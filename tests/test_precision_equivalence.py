"""The fast quantisers against a copy of the seed's formulas kept here as the reference: outputs
and gradients (to the input, to the learnable values) bit for bit on random tensors, exact
midpoints (ties), huge, tiny, subnormal, zero and negative-zero inputs, learned codebooks, and
NaN/inf. What NaN does: a NaN or +-inf anywhere in a tensor makes its per-tensor scale
non-finite, and then every output is NaN or +-inf exactly as in the reference (compared with
NaN equal to NaN); the gradient to the input stays the upstream gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tradeoffs.precision import kernels, learnable, search
from tradeoffs.precision.learnable import LEARNABLE_BITS, LearnableQuantizer, initial_values
from tradeoffs.precision.modules import make_quantizer
from tradeoffs.precision.ocp import FORMATS
from tradeoffs.precision.search import count_below

# --- the reference: the quantisers as the seed computed them (before the fast paths) ---


def reference_ste(x: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return q + (x - x.detach())


def reference_nearest(x: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    midpoints = (values[1:] + values[:-1]) / 2
    return torch.searchsorted(midpoints, x.contiguous())


def reference_learnable(x: torch.Tensor, raw_values: torch.Tensor) -> torch.Tensor:
    scale = x.detach().abs().amax().clamp_min(torch.finfo(x.dtype).tiny)
    values = torch.sort(raw_values).values
    with torch.no_grad():
        index = reference_nearest(x / scale, values.to(x.dtype))
    return reference_ste(x, values[index].to(x.dtype) * scale)


def reference_round_to_grid(x: torch.Tensor, fmt) -> torch.Tensor:
    dtype = x.dtype
    x = x.float().clamp(-fmt.max, fmt.max)
    exponent = (x.view(torch.int32) >> 23) & 0xFF
    exponent.clamp_(min=fmt.emin + 127).sub_(fmt.mbits)
    quantum = (exponent << 23).view(torch.float32)
    return x.div(quantum).round_().mul_(quantum).to(dtype)


def reference_ocp(x: torch.Tensor, fmt, scale: str, dim: int) -> torch.Tensor:
    """The seed's OCP quantiser with its straight-through gradient."""
    q = x.detach()
    if scale == "tensor":
        amax = q.abs().amax().float()
        s = torch.where(amax > 0, amax / fmt.max, torch.ones_like(amax))
        out = (reference_round_to_grid(q.float() / s, fmt) * s).to(q.dtype)
    else:
        moved = q.float().movedim(dim, -1)
        pad = -moved.shape[-1] % 32
        blocks = torch.nn.functional.pad(moved, (0, pad)).unflatten(-1, (-1, 32))
        amax = blocks.abs().amax(dim=-1, keepdim=True)
        exp = (torch.frexp(amax)[1] - 1 - fmt.emax).clamp(-127, 127)
        s = torch.ldexp(torch.ones_like(amax), exp)
        out = (reference_round_to_grid(blocks / s, fmt) * s).flatten(-2)[..., : moved.shape[-1]]
        out = out.movedim(-1, dim).to(q.dtype)
    return reference_ste(x, out)


def reference_weight(quantize, w: torch.Tensor) -> torch.Tensor:
    """The seed's WeightQuantizer: every weight as its (out, kh*kw*in) im2col matrix."""
    if w.dim() <= 2:
        return quantize(w)
    matrix = w.movedim(1, -1)
    return quantize(matrix.flatten(1)).view(matrix.shape).movedim(-1, 1)


# --- helpers ---


def identical(a: torch.Tensor | None, b: torch.Tensor | None) -> bool:
    """Same shape, dtype and bits, NaN equal to NaN (its payload is not compared)."""
    if a is None or b is None:
        return a is b
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    nan = a.isnan()
    if not torch.equal(nan, b.isnan()):
        return False
    bits = torch.int32 if a.dtype == torch.float32 else torch.int64
    return torch.equal(a[~nan].view(bits), b[~nan].view(bits))  # +0 and -0 differ


def run(quantise, x: torch.Tensor, values: torch.Tensor, upstream: torch.Tensor):
    x = x.clone().requires_grad_(True)
    values = torch.nn.Parameter(values.clone())
    out = quantise(x, values)
    out.backward(upstream)
    return out.detach(), x.grad, values.grad


def fast_learnable(x: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    quantizer = LearnableQuantizer(int(values.numel()).bit_length() - 1)
    quantizer.values = values  # the caller's parameter, whose .grad it reads
    return quantizer(x)


U = 2.0**-24  # fp32's unit roundoff


def sum_bound(x: torch.Tensor, values: torch.Tensor, upstream: torch.Tensor) -> torch.Tensor:
    """Per (unsorted) value, (n + 1) * U * sum |t| over its n terms t = upstream * scale: how
    far the fused backward's float64 lanes may lie from the reference's fp32 chain (each
    within U |sum| resp. (n - 1) U sum |t| of the exact sum of the terms), in float64."""
    scale = x.abs().amax().clamp_min(torch.finfo(x.dtype).tiny)
    order = torch.sort(values)
    index = reference_nearest(x / scale, order.values).reshape(-1)
    terms = (upstream * scale).reshape(-1).double()
    count = torch.zeros(values.numel(), dtype=torch.float64).index_add_(
        0, index.clamp_max(values.numel() - 1), torch.ones_like(terms)
    )
    magnitude = torch.zeros_like(count).index_add_(
        0, index.clamp_max(values.numel() - 1), terms.abs()
    )
    bound = torch.empty_like(count)
    bound[order.indices] = (count + 1) * U * magnitude
    return bound


def assert_sums_within_bound(fast: torch.Tensor, ref: torch.Tensor, bound: torch.Tensor) -> None:
    """|fast - ref| <= bound where both are finite; elsewhere identical, unless the terms
    reach fp32's overflow (the fp32 chain may overflow where float64 does not)."""
    finite = torch.isfinite(fast) & torch.isfinite(ref)
    assert ((fast.double() - ref.double()).abs()[finite] <= bound[finite]).all()
    same = (fast == ref) | (fast.isnan() & ref.isnan())
    assert (same | finite | (bound >= U * torch.finfo(torch.float32).max)).all()


def assert_learnable_matches(x: torch.Tensor, values: torch.Tensor, seed: int = 0) -> None:
    """Output and gradient to x bit for bit; the gradient to the values bit for bit on the
    torch path (below FEW_MIN_ELEMENTS), within `sum_bound` on the kernels'."""
    upstream = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
    fast = run(fast_learnable, x, values, upstream)
    ref = run(reference_learnable, x, values, upstream)
    for name, a, b in zip(("output", "grad x"), fast[:2], ref[:2], strict=True):
        assert identical(a, b), name
    if x.numel() < search.FEW_MIN_ELEMENTS:
        assert identical(fast[2], ref[2]), "grad values"
    assert_sums_within_bound(fast[2], ref[2], sum_bound(x, values, upstream))


@pytest.fixture(autouse=True)
def one_thread():
    """The reference's gradient to the values is an index_put_ accumulation, deterministic on
    one thread (the default run's `threads: 1`); see the test at two threads below."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# the searchsorted path; the comparisons (fp8/fp6: the searchsorted path at 1000 when the
# comparisons are off, the table path from MIN_ELEMENTS); the table path for fp8/fp6
SIZES = [search.FEW_MIN_ELEMENTS - 5, 1000, search.MIN_ELEMENTS + 5]
WITH_FINE = [*SIZES, search.FINE_ELEMENTS + 5]  # and the finer 16-bit table


# --- learnable formats ---


@pytest.mark.parametrize("bits", sorted(LEARNABLE_BITS.values()))
@pytest.mark.parametrize("n", WITH_FINE)
def test_learnable_matches_reference_on_random_tensors(bits, n):
    gen = torch.Generator().manual_seed(bits * 100 + n)
    x = torch.randn(n, generator=gen) * torch.rand(n, generator=gen).pow(4) * 3
    assert_learnable_matches(x, initial_values(bits))


@pytest.mark.parametrize("bits", sorted(LEARNABLE_BITS.values()))
@pytest.mark.parametrize("n", WITH_FINE)
def test_learnable_matches_reference_with_learned_unsorted_values(bits, n):
    gen = torch.Generator().manual_seed(bits)
    values = initial_values(bits) + torch.randn(2**bits, generator=gen) * 0.3 / 2**bits
    values = values[torch.randperm(2**bits, generator=gen)]  # an optimiser may swap them
    values[0] = values[1]  # two equal levels: an empty bucket between them
    x = torch.randn(n, generator=gen)
    assert_learnable_matches(x, values)


@pytest.mark.parametrize("bits", sorted(LEARNABLE_BITS.values()))
def test_learnable_ties_at_exact_midpoints_round_down_as_the_reference(bits):
    values = initial_values(bits)
    midpoints = (values[1:] + values[:-1]) / 2
    # amax 1 (the last element) makes x / scale == x: every midpoint exactly, and its
    # neighbours one ulp either side, many times over (the table path)
    around = torch.cat(
        [midpoints, midpoints.nextafter(midpoints + 1), midpoints.nextafter(midpoints - 1)]
    )
    for size in (search.MIN_ELEMENTS, search.FINE_ELEMENTS):
        x = torch.cat([around.repeat(size // around.numel() + 1), torch.ones(1)])
        assert_learnable_matches(x, values)
    assert_learnable_matches(x[-1000:], values)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize(
    "magnitude", [3e38, 1e30, 1.0, 1e-30, 1e-38, 1e-42], ids=lambda m: f"{m:g}"
)
def test_learnable_matches_reference_at_extremes(n, magnitude):
    gen = torch.Generator().manual_seed(n)
    x = torch.randn(n, generator=gen).clamp(-1, 1) * magnitude  # 1e-42: subnormal inputs
    x[:7] = torch.tensor([0.0, -0.0, magnitude, -magnitude, 0.0, -0.0, 0.0])
    for bits in LEARNABLE_BITS.values():
        assert_learnable_matches(x, initial_values(bits))


@pytest.mark.parametrize("n", SIZES)
def test_learnable_all_zero_and_negative_zero_tensors(n):
    for bits in LEARNABLE_BITS.values():
        assert_learnable_matches(torch.zeros(n), initial_values(bits))
        assert_learnable_matches(-torch.zeros(n), initial_values(bits))
    values = initial_values(4)
    values[7] = -0.0  # a level of -0 comes out +0, as the reference's x - x makes it
    assert_learnable_matches(torch.randn(n), values)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("special", [float("nan"), float("inf"), -float("inf")])
def test_learnable_nan_and_inf_as_the_reference(n, special):
    x = torch.randn(n, generator=torch.Generator().manual_seed(n))
    x[3] = special
    for bits in LEARNABLE_BITS.values():
        assert_learnable_matches(x, initial_values(bits))
    # every output is non-finite: the scale is NaN or inf
    out = LearnableQuantizer(4)(x)
    assert not torch.isfinite(out).any()


def test_learnable_gradient_to_values_at_two_threads_is_deterministic_and_close():
    """At two threads the reference's index_put_ accumulation varies run to run; the fast
    path's index_add_ gives the one-thread sums every time, within float rounding of the
    reference's (relative 1e-4 of the sum of magnitudes)."""
    gen = torch.Generator().manual_seed(0)
    x, upstream = torch.randn(2**20, generator=gen), torch.randn(2**20, generator=gen)
    values = initial_values(4)
    one = run(fast_learnable, x, values, upstream)[2]
    torch.set_num_threads(2)
    fast = [run(fast_learnable, x, values, upstream)[2] for _ in range(3)]
    ref = run(reference_learnable, x, values, upstream)[2]
    assert all(torch.equal(f, one) for f in fast)
    magnitude = torch.zeros(16).index_add_(
        0, reference_nearest(x / x.abs().amax(), values), upstream.abs() * x.abs().amax()
    )
    assert ((fast[0] - ref).abs() <= 1e-4 * magnitude + 1e-6).all()


def test_compiled_and_traced_graphs_use_the_reference_formula():
    quantizer = LearnableQuantizer(4)
    x = torch.randn(2, 64)
    traced = torch.jit.trace(quantizer, (x,), check_trace=False)
    assert "searchsorted" in str(traced.graph)
    assert identical(traced(x), reference_learnable(x, quantizer.values).detach())


# --- the search itself ---


def test_cpu_tensors_from_the_comparisons_threshold_take_a_kernel(monkeypatch):
    """From the thresholds on, the learnable forward is the one kernel call
    (`search.round_to_values`), never the step-by-step path or a binary search."""

    def refused(*args):
        raise AssertionError("step-by-step path called")

    monkeypatch.setattr(search, "_searchsorted", refused)
    monkeypatch.setattr(learnable, "round_to_levels", refused)
    for bits in LEARNABLE_BITS.values():
        LearnableQuantizer(bits)(torch.randn(search.MIN_ELEMENTS))
        LearnableQuantizer(bits)(torch.randn(search.FEW_MIN_ELEMENTS))
    for bits in (2, 3, 4):  # few levels: comparisons at every size
        LearnableQuantizer(bits)(torch.randn(search.FINE_ELEMENTS))


@pytest.mark.parametrize("bits", [6, 8])
def test_learnable_matches_reference_where_the_kernel_takes_the_finer_cells(bits):
    """A learned codebook crowding a 12-bit cell, on a tensor from FINE_ELEMENTS: the one-call
    kernel takes the 16-bit cells, whose cells hold fewer midpoints; the same numbers."""
    values = initial_values(bits)
    values[-6:-1] = 0.5 + torch.arange(5) / 128  # five levels in one 12-bit cell, [0.5, 0.5625)
    v = values.sort().values
    midpoints = torch.cat([(v[1:] + v[:-1]) / 2, torch.tensor([float("inf")])])
    held = {}
    for shift in search.CELL_SHIFTS:
        below = np.empty(1 << (32 - shift), np.int32)
        held[shift] = kernels.cell_tables(midpoints.numpy(), shift, *search._ORDER[shift], below)
    assert held[search.CELL_SHIFTS[1]] < held[search.CELL_SHIFTS[0]]  # the finer cells pay
    gen = torch.Generator().manual_seed(bits)
    x = torch.cat(
        [
            torch.randn(search.FINE_ELEMENTS + 5, generator=gen),
            0.5 + torch.rand(4096, generator=gen) / 16,  # inside the crowded cell
            torch.ones(1),  # amax 1: x / scale == x
        ]
    )
    assert_learnable_matches(x, values)


def test_learnable_with_a_nan_value_takes_the_torch_path():
    """A NaN value (a diverged optimiser; sorted last) makes a NaN midpoint: the kernel
    declines and the step-by-step torch path (unchanged from before the one-call kernel)
    runs. It matches the reference but for elements near the top, which it gives the NaN
    value (a binary search over midpoints holding NaN, then the +inf guard) where the
    reference gives one of the two largest finite values; the gradient to x is the upstream
    gradient either way."""
    values = initial_values(4)
    values[5] = float("nan")
    x = torch.randn(search.MIN_ELEMENTS + 5, generator=torch.Generator().manual_seed(1))
    ordered = torch.sort(values).values
    assert search.round_to_values(x, ordered) is None
    upstream = torch.randn(x.shape, generator=torch.Generator().manual_seed(2))
    fast = run(fast_learnable, x, values, upstream)
    ref = run(reference_learnable, x, values, upstream)
    differ = (fast[0] != ref[0]) & ~(fast[0].isnan() & ref[0].isnan())
    top = ordered[-3:-1] * x.abs().amax()
    assert fast[0][differ].isnan().all() and torch.isin(ref[0][differ], top).all()
    assert differ.float().mean() < 0.05 and identical(fast[1], ref[1])


@pytest.mark.parametrize("n", [1, 15, 16, 17, 1000])
def test_abs_max_is_the_scale_torch_computes(n):
    """kernels.abs_max (an integer maximum of the bit patterns) against _scale's torch ops, on
    every kind of fp32: zeros of both signs, subnormals, normals, +-inf, NaN of either sign."""
    gen = torch.Generator().manual_seed(n)
    specials = [0.0, -0.0, 1e-45, -1e-42, 1e-38, 3e38, -3.4e38, float("inf"), -float("inf")]
    cases = [torch.zeros(n), -torch.zeros(n), torch.full((n,), 1e-40)]
    for special in [*specials, float("nan"), -float("nan")]:
        x = torch.randn(n, generator=gen)
        x[torch.randint(0, n, (1,), generator=gen)] = special
        cases.append(x)
    for x in cases:
        expected = x.abs().amax().clamp_min(torch.finfo(torch.float32).tiny)
        assert identical(torch.tensor(kernels.abs_max(x.numpy())), expected)


@pytest.mark.parametrize("count", [1, 5, search.FEW_MIDPOINTS, search.MAX_COMPARED])
def test_count_below_by_comparisons_equals_searchsorted(count):
    gen = torch.Generator().manual_seed(count)
    midpoints = torch.randn(count, generator=gen).sort().values
    midpoints[count // 2 :] = midpoints[count // 2]  # equal midpoints: empty buckets
    x = torch.cat(
        [
            torch.randn(search.FEW_MIN_ELEMENTS, generator=gen),
            midpoints,
            midpoints.nextafter(midpoints + 1),
            midpoints.nextafter(midpoints - 1),
            torch.tensor([float("nan"), -float("nan"), float("inf"), -float("inf")]),
            torch.tensor([0.0, -0.0, 1e-45, -1e-45]),
        ]
    )
    assert torch.equal(count_below(x, midpoints).long(), torch.searchsorted(midpoints, x))


@pytest.mark.parametrize("per_cell", [1, 3, search.MAX_PER_CELL + 1])
@pytest.mark.parametrize("size", [search.MIN_ELEMENTS, search.FINE_ELEMENTS])
def test_count_below_equals_searchsorted_however_many_midpoints_share_a_cell(per_cell, size):
    gen = torch.Generator().manual_seed(per_cell)
    # `per_cell` midpoints inside one 128th of a binade, [0.5, 0.50390625) (one cell of either
    # table), and float-like others
    crowded = 0.5 + torch.rand(per_cell, generator=gen) / 256
    midpoints = torch.cat([initial_values(6)[1:] - 1 / 256, crowded]).sort().values
    x = torch.cat(
        [
            torch.randn(size, generator=gen),
            0.5 + torch.rand(size // 8, generator=gen) / 256,
            midpoints,
            torch.tensor([float("nan"), -float("nan"), 0.0, -0.0, 1e-45, -1e-45]),
        ]
    )
    assert torch.equal(count_below(x, midpoints).long(), torch.searchsorted(midpoints, x))


def test_fused_sums_per_level_are_the_float64_sums_rounded_once():
    """The kernel's sums (int16 indices) lie within U |sum| (its one rounding to fp32) plus
    n float64 roundings of the exact sums of the fp32 terms, cancellation included."""
    gen = torch.Generator().manual_seed(0)
    n, levels = 50_000, 9
    grad = torch.randn(n, generator=gen) * torch.rand(n, generator=gen).pow(8) * 1e3
    index = torch.randint(0, levels, (n,), generator=gen)
    scale = torch.tensor(0.37)
    fast = search.sum_per_level(grad, scale, index.to(torch.int16), levels, torch.float32)
    terms = (grad * scale).double()
    exact = torch.zeros(levels, dtype=torch.float64).index_add_(0, index, terms)
    magnitude = torch.zeros(levels, dtype=torch.float64).index_add_(0, index, terms.abs())
    assert ((fast.double() - exact).abs() <= U * exact.abs() + n * 2.0**-53 * magnitude).all()
    chain = search.sum_per_level(grad, scale, index, levels, torch.float32)  # index_add_
    count = torch.bincount(index, minlength=levels).double()
    assert ((fast.double() - chain.double()).abs() <= (count + 1) * U * magnitude).all()


# --- OCP formats ---


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("scale", ["tensor", "block32"])
def test_ocp_input_quantisers_match_reference(fmt, scale):
    gen = torch.Generator().manual_seed(1)
    # small tensors, and large ones (the fused pass of a per-tensor scale)
    shapes = (((8, 40, 3, 3), 1), ((4, 70), -1), ((24, 40, 3, 3), 1), ((130, 70), -1))
    for shape, dim in shapes:
        x = torch.randn(shape, generator=gen) * 5
        x.view(-1)[:6] = torch.tensor([0.0, -0.0, 1e-40, -1e-40, 1e-3, -1e-3])
        upstream = torch.randn(shape, generator=gen)
        quantizer = make_quantizer(fmt, {"scale": scale}, dim)
        fast = run(lambda t, _v, q=quantizer: q(t), x, torch.zeros(1), upstream)
        ref = run(
            lambda t, _v, d=dim: reference_ocp(t, FORMATS[fmt], scale, d),
            x,
            torch.zeros(1),
            upstream,
        )
        assert identical(fast[0], ref[0]) and identical(fast[1], ref[1])


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("special", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("scale", ["tensor", "block32"])
@pytest.mark.parametrize("rows", [4, 130])  # 130 x 70: the fused pass of a per-tensor scale
def test_ocp_nan_and_inf_as_the_reference(fmt, special, scale, rows):
    x = torch.randn(rows, 70, generator=torch.Generator().manual_seed(2)) * 3
    x[1, 5] = special
    upstream = torch.ones_like(x)
    quantizer = make_quantizer(fmt, {"scale": scale}, -1)
    fast = run(lambda t, _v: quantizer(t), x, torch.zeros(1), upstream)
    ref = run(lambda t, _v: reference_ocp(t, FORMATS[fmt], scale, -1), x, torch.zeros(1), upstream)
    assert identical(fast[0], ref[0]) and identical(fast[1], ref[1])


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_ocp_fused_pass_at_extremes_and_ties(fmt):
    """Large tensors (the fused pass): every grid value, the midpoints between neighbours
    (ties to even) and one ulp either side, values beyond max (saturation), subnormal fp32
    inputs and zeros of both signs, with the scale 1 (amax = max) and a scale that is not a
    power of two."""
    grid = torch.unique(reference_round_to_grid(torch.linspace(-500, 500, 200001), FORMATS[fmt]))
    grid = grid[grid.abs() <= FORMATS[fmt].max]
    mids = (grid[1:] + grid[:-1]) / 2
    x = torch.cat(
        [grid, mids, mids.nextafter(mids + 1), mids.nextafter(mids - 1)]
        + [torch.tensor([1e-42, -1e-42, 0.0, -0.0, 1e30, -1e30])]
    )
    x = x.clamp(-FORMATS[fmt].max, FORMATS[fmt].max).repeat(search.MIN_ELEMENTS // x.numel() + 1)
    for t in (x, x * 0.7):
        quantizer = make_quantizer(fmt, {"scale": "tensor"})
        upstream = torch.randn(t.shape, generator=torch.Generator().manual_seed(4))
        fast = run(lambda u, _v, q=quantizer: q(u), t, torch.zeros(1), upstream)
        ref = run(
            lambda u, _v: reference_ocp(u, FORMATS[fmt], "tensor", -1), t, torch.zeros(1), upstream
        )
        assert identical(fast[0], ref[0]) and identical(fast[1], ref[1])


def test_large_ocp_tensors_take_the_fused_pass(monkeypatch):
    from tradeoffs.precision import ocp

    def refused(*args):
        raise AssertionError("unfused quantize called")

    monkeypatch.setattr(ocp, "quantize", refused)
    for fmt in FORMATS:
        make_quantizer(fmt, {"scale": "tensor"})(torch.randn(search.MIN_ELEMENTS))


@pytest.mark.parametrize("precision", ["fp4", "fp8", "e4m3", "e2m1"])
@pytest.mark.parametrize("scale", ["tensor", "block32"])
def test_weight_quantisers_match_the_im2col_reference(precision, scale):
    """Per-tensor quantisers now skip the im2col copy of a conv weight: the same values."""
    from tradeoffs.precision.modules import WeightQuantizer

    gen = torch.Generator().manual_seed(3)
    w = torch.randn(16, 8, 3, 3, generator=gen)
    quantizer = make_quantizer(precision, {"scale": scale})
    upstream = torch.randn(w.shape, generator=gen)
    if precision in LEARNABLE_BITS:
        fast = run(lambda t, v: WeightQuantizer(quantizer)(t), w, quantizer.values, upstream)
        ref_quantise = lambda t: reference_learnable(t, quantizer.values)  # noqa: E731
    else:
        fast = run(lambda t, _v: WeightQuantizer(quantizer)(t), w, torch.zeros(1), upstream)
        ref_quantise = lambda t: reference_ocp(t, FORMATS[precision], scale, -1)  # noqa: E731
    ref = run(lambda t, _v: reference_weight(ref_quantise, t), w, torch.zeros(1), upstream)
    assert identical(fast[0], ref[0]) and identical(fast[1], ref[1])
