"""The sweep's statistics: bootstrap intervals of percentiles on known samples, adaptive
repeats, the memory budget, MLPerf's single-stream and offline figures."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tradeoffs.config import study_with_defaults
from tradeoffs.measure import sweep as sweep_module
from tradeoffs.measure.percentiles import latency_percentiles, percentile_ci, relative_width
from tradeoffs.measure.sweep import SweepSettings, summarize_sweep, sweep, timed_samples

BENCH = {
    "warmup": 0,
    "repeats": 20,
    "batch_size": None,
    "batch_sizes": None,
    "max_repeats": 400,
    "max_seconds": 5.0,
    "p99_ci_rel": 0.1,
    "memory_budget_mb": 4096,
}


def settings(**changes) -> SweepSettings:
    return SweepSettings.from_cfg({**BENCH, **changes}, throughput_batch=32)


def order_statistic_interval(n: int, q: float) -> tuple[int, int]:
    """The distribution-free 95% interval of the q-quantile: ranks from Binomial(n, q)."""
    low, high = stats.binom.ppf([0.025, 0.975], n, q)
    return int(low), int(high)


@pytest.mark.parametrize("q", [50, 90, 99])
def test_bootstrap_interval_matches_the_order_statistic_interval(q):
    samples = np.random.default_rng(1).permutation(np.arange(1.0, 2001.0))  # values = ranks
    low, high = percentile_ci(samples, q)
    exact_low, exact_high = order_statistic_interval(samples.size, q / 100)
    assert low <= np.percentile(samples, q) <= high
    width = exact_high - exact_low
    assert abs(low - exact_low) <= 0.25 * width and abs(high - exact_high) <= 0.25 * width


def test_interval_is_seeded_and_degenerate_for_constant_samples():
    samples = np.random.default_rng(0).exponential(1.0, 300)
    assert percentile_ci(samples, 99) == percentile_ci(samples, 99)
    assert percentile_ci(np.full(50, 3.0), 99) == (3.0, 3.0)
    assert relative_width(3.0, (3.0, 3.0)) == 0.0
    with pytest.raises(ValueError, match="at least 2"):
        percentile_ci([1.0], 50)


def test_latency_percentiles_keys_and_order():
    out = latency_percentiles(np.arange(1.0, 101.0))
    assert out["latency_ms_p50"] == pytest.approx(50.5)
    assert (
        out["latency_ms_p50"]
        < out["latency_ms_p90"]
        < out["latency_ms_p95"]
        < out["latency_ms_p99"]
    )
    for q in (50, 90, 95, 99):
        low, high = out[f"latency_ms_p{q}_ci"]
        assert low <= out[f"latency_ms_p{q}"] <= high


def fake_timer(monkeypatch, draw):
    """sample_calls returns `draw(n)` instead of timing; records the block sizes asked for."""
    blocks = []

    def sample_calls(fn, repeats, sync):
        blocks.append(repeats)
        return np.asarray(draw(repeats), dtype=float)

    monkeypatch.setattr(sweep_module, "sample_calls", sample_calls)
    return blocks


def test_steady_calls_stop_after_the_first_block(monkeypatch):
    blocks = fake_timer(monkeypatch, lambda n: np.full(n, 2.0))
    samples = timed_samples(lambda: None, settings())
    assert blocks == [1, 20] and samples.size == 21


def test_noisy_calls_double_the_repeats_up_to_max_repeats(monkeypatch):
    rng = np.random.default_rng(0)
    blocks = fake_timer(monkeypatch, lambda n: rng.lognormal(0.0, 1.5, n))
    samples = timed_samples(lambda: None, settings(max_seconds=1e6))
    assert blocks[:4] == [1, 20, 21, 42]
    assert samples.size == 400  # max_repeats: the interval never got within 10%
    width = relative_width(np.percentile(samples, 99), percentile_ci(samples, 99))
    assert width > 0.1


def test_time_budget_ends_timing_but_keeps_five_calls(monkeypatch):
    fake_timer(monkeypatch, lambda n: np.random.default_rng(n).lognormal(6.0, 1.0, n))
    samples = timed_samples(lambda: None, settings(max_seconds=0.001))
    assert samples.size == sweep_module.MIN_SAMPLES


def test_sweep_records_every_batch_size_and_mlperf_figures(monkeypatch):
    fake_timer(monkeypatch, lambda n: np.linspace(1.0, 1.5, n))
    record = sweep(lambda batch: lambda: None, settings(batch_sizes=[8, 32]))
    assert [p["batch_size"] for p in record["sweep"]] == [1, 8, 32]
    single = record["sweep"][0]
    assert record["single_stream_latency_ms"] == single["latency_ms_p90"]
    assert record["latency_ms_p99"] == single["latency_ms_p99"]
    # equal latency per call at every batch size: the largest batch has the best throughput
    assert record["offline_batch_size"] == 32
    assert record["offline_throughput_sps"] == pytest.approx(
        32e3 / np.median(np.linspace(1, 1.5, 20 + 1)), rel=0.05
    )
    low, high = record["offline_throughput_sps_ci"]
    assert low <= record["offline_throughput_sps"] <= high
    assert record["sweep_stopped"] is None and record["p99_ci_met"] is True


def test_memory_budget_stops_the_sweep_before_a_batch_that_would_not_fit():
    kept = []

    def make_call(batch):
        # 8 MB per sample, touched: resident, and more than a heap freed by earlier tests holds
        kept.append(np.ones(batch * 2**20))
        return lambda: None

    record = sweep(
        make_call, settings(batch_sizes=[8, 32, 128], memory_budget_mb=1000, max_seconds=0.01)
    )
    assert [p["batch_size"] for p in record["sweep"]] == [1, 8, 32]
    assert record["sweep_stopped"].startswith("batch 128: projected memory growth")
    assert "benchmark.memory_budget_mb" in record["sweep_stopped"]


def default_settings(throughput_batch: int, **changes) -> SweepSettings:
    """The default config's sweep (its 4096 MB budget), shortened: 20 ms per batch size."""
    cfg = {**study_with_defaults({})["benchmark"], "max_seconds": 0.02, **changes}
    return SweepSettings.from_cfg(cfg, throughput_batch)


def test_fixed_growth_at_batch_one_does_not_stop_the_sweep_at_the_default_budget():
    """~16 MB of allocator growth at batch 1 would project, per sample, to 8 GB at batch 512:
    a probe at the largest batch the worst case allows fits the line, and 512 is measured."""
    kept, calls = [], []

    def make_call(batch):
        calls.append(batch)
        if not kept:
            kept.append(np.ones(2 * 2**20))  # 16 MB once: arenas, workspaces
        kept.append(np.ones(batch * 2**12))  # 32 kB per sample
        return lambda: None

    settings_512 = default_settings(512)
    assert settings_512.memory_budget_mb == 4096 and settings_512.batch_sizes == (1, 512)
    record = sweep(make_call, settings_512)
    assert [p["batch_size"] for p in record["sweep"]] == [1, 512]
    assert record["sweep_stopped"] is None and record["infer_throughput_sps"] > 0
    probe = calls[1]  # one untimed call in between, within the worst case's budget
    assert calls == [1, probe, 512] and 1 < probe < 512
    assert probe * record["sweep"][0]["peak_rss_growth_mb"] <= 4096


def test_a_small_torch_network_reaches_every_requested_batch_at_the_default_budget():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.LazyLinear(10)
    ).eval()

    def make_call(batch):
        x = torch.randn(batch, 1, 28, 28)

        def call():
            with torch.inference_mode():
                return model(x)

        return call

    record = sweep(make_call, default_settings(512, batch_sizes=[8, 128]))
    assert [p["batch_size"] for p in record["sweep"]] == [1, 8, 128, 512]
    assert record["sweep_stopped"] is None
    assert record["infer_throughput_sps"] > 0 and record["batch_latency_ms_p50"] > 0
    lo, hi = record["infer_throughput_sps_ci"]  # the throughput batch's, from its p50 interval
    assert 0 < lo <= record["infer_throughput_sps"] <= hi
    assert record["infer_throughput_sps_ci"] == record["sweep"][-1]["throughput_sps_ci"]


def test_projection_from_one_point_is_per_sample_and_from_two_a_line():
    projected, how = sweep_module._projection(32, [sweep_module._Growth(1, 900.0)])
    assert projected == 900.0 * 32 and "per sample" in how
    line = [sweep_module._Growth(1, 16.0), sweep_module._Growth(9, 20.0)]
    fitted, how = sweep_module._projection(64, line)
    assert fitted == pytest.approx(20.0 + 0.5 * 55)
    assert "16 MB fixed + 0.5 MB per sample, from batches 1 and 9" in how
    # a shrinking growth (freed memory) projects the last measurement, never less
    shrinking = [sweep_module._Growth(1, 16.0), sweep_module._Growth(9, 10.0)]
    assert sweep_module._projection(64, shrinking)[0] == 10.0


def test_out_of_memory_ends_the_sweep_and_other_errors_propagate():
    def make_call(batch):
        if batch > 8:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2 GiB")
        return lambda: None

    record = sweep(make_call, settings(batch_sizes=[8, 32], max_seconds=0.01))
    assert [p["batch_size"] for p in record["sweep"]] == [1, 8]
    assert (
        record["sweep_stopped"]
        == "batch 32: out of memory (CUDA out of memory. Tried to allocate 2 GiB)"
    )
    # the throughput batch (32) was never timed: its keys are null and say why
    assert record["infer_throughput_sps"] is None and record["infer_throughput_sps_ci"] is None
    assert record["infer_throughput_sps_reason"] == record["sweep_stopped"]

    def broken(batch):
        raise ValueError("shape mismatch")

    with pytest.raises(ValueError, match="shape mismatch"):
        sweep(broken, settings(max_seconds=0.01))


def test_null_batch_sizes_sweep_batch_one_and_the_throughput_batch():
    assert settings().batch_sizes == (1, 32)
    assert settings(batch_sizes=[512, 8, 1]).batch_sizes == (1, 8, 32, 512)


def test_summary_without_batch_one_is_an_error():
    with pytest.raises(RuntimeError, match="no measurement at batch 1"):
        summarize_sweep([], settings(), "batch 1: out of memory")


def test_every_timing_key_comes_from_the_sweep(monkeypatch):
    """One measurement: batch 1 gives the latency keys, the throughput batch the batched
    latency and the throughput; memory, CPU and energy cover the sweep."""
    fake_timer(monkeypatch, lambda n: np.linspace(1.0, 1.5, n))
    record = sweep(lambda batch: lambda: None, settings(batch_sizes=[8, 64]))
    points = {p["batch_size"]: p for p in record["sweep"]}
    assert set(points) == {1, 8, 32, 64}
    assert record["bench_batch_size"] == 32
    assert record["infer_throughput_sps"] == points[32]["throughput_sps"]
    assert record["batch_latency_ms_p50"] == points[32]["latency_ms_p50"]
    assert record["batch_latency_ms_p95"] == points[32]["latency_ms_p95"]
    assert record["latency_ms_mean"] == points[1]["latency_ms_mean"]
    assert record["bench_repeats"] == points[1]["repeats"]
    assert record["bench_warmup"] == BENCH["warmup"]
    assert record["bench_peak_rss_mb"] > 0 and record["bench_cpu_util_pct"] >= 0
    assert "energy_measured_uj_per_inf" in record and record["energy_measured_source"]
