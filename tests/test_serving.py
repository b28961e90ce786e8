"""The serving load generator as a discrete-event simulation: a simulated clock and a predictor
of known service time (no real sleeping, so nothing here depends on the machine's load), checked
against M/D/1 queueing theory, dynamic batching, the bounded queue, closed-loop clients and
MLPerf's early-stopping rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from tradeoffs.measure.timing import SimulatedClock
from tradeoffs.serving.loadgen import Batching, ClosedLoop, OpenLoop, poisson_arrivals, serve
from tradeoffs.serving.operating_point import (
    Server,
    ServingSettings,
    early_stopping_met,
    min_requests,
    offered,
    operating_point,
)

SERVICE_S = 1e-3  # D: every batch-1 request takes exactly 1 ms


def simulated_server(base_s: float = SERVICE_S, per_item_s: float = 0.0) -> Server:
    """A predictor whose call on a batch of b takes base_s + b x per_item_s of simulated time."""
    clock = SimulatedClock()
    return Server(lambda batch: clock.advance(base_s + per_item_s * len(batch)), clock)


def settings(**changes) -> ServingSettings:
    values = {
        "p99_ms": 10.0,
        "duration_s": 8.0,  # 8 s at hundreds of requests/s: thousands of requests a level
        "batching": Batching(),
        "queue_size": 10_000,
        "confidence": 0.95,
        "resolution": 0.02,
        "clients": (1, 2, 4),
    }
    return ServingSettings(**{**values, **changes})


def md1_wait_cdf(t: float, rate: float, service: float) -> float:
    """P(queue wait <= t) in M/D/1 (Erlang's formula): (1 - rho) sum_{k <= t/D} of
    [rate (kD - t)]^k / k! exp(-rate (kD - t))."""
    rho = rate * service
    k = np.arange(int(t // service) + 1)
    x = rate * (k * service - t)
    return float((1 - rho) * np.sum(x**k / special.factorial(k) * np.exp(-x)))


def md1_p99_ms(rate: float, service: float = SERVICE_S) -> float:
    """The p99 of M/D/1 latency (wait + service) in ms; 1e3 beyond a 20 ms wait, where
    Erlang's alternating sum would lose its digits."""
    if md1_wait_cdf(0.0, rate, service) >= 0.99:
        return service * 1e3
    if md1_wait_cdf(0.02, rate, service) < 0.99:
        return 1e3
    wait = optimize.brentq(lambda t: md1_wait_cdf(t, rate, service) - 0.99, 0.0, 0.02, xtol=1e-9)
    return (wait + service) * 1e3


def test_md1_formula_matches_pollaczek_khinchine_mean():
    """The theory helper itself: the mean wait from its CDF is P-K's rho D / (2 (1 - rho)).
    (Erlang's alternating sum loses digits beyond t ~ 20 D; the tail past it is negligible.)"""
    rate = 600.0
    grid = np.linspace(0, 0.02, 4001)
    survival = 1 - np.array([md1_wait_cdf(t, rate, SERVICE_S) for t in grid])
    rho = rate * SERVICE_S
    assert integrate.trapezoid(survival, grid) == pytest.approx(
        rho * SERVICE_S / (2 * (1 - rho)), 1e-3
    )


@pytest.mark.parametrize("rate", [300.0, 600.0, 800.0])
def test_p99_at_each_rate_agrees_with_md1_within_10_percent(rate):
    level = offered(simulated_server(), rate, settings())
    assert level["requests"] == pytest.approx(rate * 8, rel=0.05) and level["dropped"] == 0
    assert level["duration_s"] == pytest.approx(8.0, abs=0.1)
    assert level["latency_ms_p99"] == pytest.approx(md1_p99_ms(rate), rel=0.10)
    low, high = level["latency_ms_p99_ci"]
    assert low <= level["latency_ms_p99"] <= high
    # compute is exactly the service time; queueing is the rest, growing with the load
    assert level["compute_ms_mean"] == pytest.approx(1.0)
    rho = rate * SERVICE_S
    assert level["queue_ms_mean"] == pytest.approx(rho / (2 * (1 - rho)), rel=0.15)


@pytest.mark.slow
def test_server_qps_agrees_with_md1_within_the_resolution():
    """The theoretical operating point: the rate whose M/D/1 p99 is the 10 ms bound."""
    s = settings()
    theory = optimize.brentq(lambda r: md1_p99_ms(r) - s.p99_ms, 100.0, 990.0)
    found = operating_point(simulated_server(), s)
    assert found["capacity_qps"] == pytest.approx(1000.0)
    # theory 773 req/s; the highest passing rate is below it by at most the resolution (20
    # req/s) plus 5%, the sample p99's spread at ~6000 requests (found: 739 req/s)
    assert theory * 0.95 - s.resolution * 1000 <= found["server_qps"] <= theory * 1.05
    operating = found["operating"]
    assert operating["meets"] and operating["latency_ms_p99"] <= s.p99_ms
    low, high = operating["latency_ms_p99_ci"]  # intervals at the operating level only
    assert low <= operating["latency_ms_p99"] <= high
    assert "latency_ms_p99_ci" not in found["points"][0]
    # the bracket's top (1.1 x capacity: queueing without bound, the knee), then the bisection
    assert len(found["points"]) == 1 + math.ceil(math.log2(1.1 / s.resolution))
    top = found["points"][-1]
    assert top["offered_qps"] == pytest.approx(1100.0) and not top["meets"]


@pytest.mark.slow
def test_dynamic_batching_raises_the_sustained_rate():
    """Batches of b cost 1 ms + 0.1 ms x b: one at a time the server saturates at 909 req/s;
    batches of up to 8 amortise the fixed cost."""
    plain = operating_point(simulated_server(SERVICE_S, 1e-4), settings(duration_s=1.0))
    batched = settings(duration_s=1.0, batching=Batching(8, 2e-3), clients=(1, 2, 8))
    found = operating_point(simulated_server(SERVICE_S, 1e-4), batched)
    assert plain["capacity_qps"] == pytest.approx(1 / 1.1e-3)
    assert found["capacity_qps"] == pytest.approx(8 / 1.8e-3)
    assert found["server_qps"] > 2 * plain["server_qps"]
    sizes = found["operating"]["batch_sizes"]
    assert max(sizes) <= 8 and found["operating"]["batch_mean"] > 1.5
    assert set(plain["operating"]["batch_sizes"]) == {1}


def test_a_request_waits_for_a_batch_at_most_max_wait():
    """Requests 5 ms apart with max_wait 2 ms: each is served alone after 2 ms, but the last,
    after which no request can come, at once."""
    server = simulated_server()
    arrivals = np.array([0.0, 0.005, 0.010])
    served = serve(OpenLoop(arrivals), server.predictor, Batching(4, 2e-3), server.clock, 10)
    assert served.queue_ms == pytest.approx([2.0, 2.0, 0.0])
    assert served.batches == [1, 1, 1]
    together = serve(
        OpenLoop(np.array([0.0, 0.001])), server.predictor, Batching(4, 2e-3), server.clock, 10
    )
    assert together.batches == [2] and together.queue_ms == pytest.approx([1.0, 0.0])


def test_a_full_queue_drops_requests_and_fails_the_bound():
    """At twice the capacity a 5-request queue drops about half of the requests: the test
    still ends on schedule rather than queueing without bound."""
    level = offered(simulated_server(), 2000.0, settings(duration_s=2.0, queue_size=5))
    assert 0.4 < level["dropped"] / level["requests"] < 0.6
    assert not level["meets"]
    assert level["duration_s"] < 2.0 + 6 * SERVICE_S
    assert level["latency_ms_p99"] <= 6.0 + 1e-9  # at most 5 waiting plus its own service


def test_closed_loop_clients_queue_behind_one_worker():
    """N clients back-to-back, one worker, no batching: throughput 1/D, latency N x D."""
    server = simulated_server()
    for clients in (1, 2, 4):
        source = ClosedLoop(clients, duration_s=1.0, min_requests=10)
        served = serve(source, server.predictor, Batching(), server.clock, 100)
        assert served.latency_ms[clients:] == pytest.approx(clients * 1.0)
        assert served.answered.sum() / served.duration_s == pytest.approx(1000.0, rel=0.01)


def test_schedule_is_seeded_and_runs_for_the_duration_and_the_minimum_count():
    first = poisson_arrivals(200.0, 1.0, 50, seed=3)
    assert np.array_equal(first, poisson_arrivals(200.0, 1.0, 50, seed=3))
    assert first[-1] < 1.0 and len(poisson_arrivals(200.0, 1.0, 50, seed=4)) != len(first)
    assert stats.kstest(np.diff(first) * 200.0, "expon").pvalue > 0.01
    assert len(poisson_arrivals(10.0, 1.0, 299, seed=0)) == 299  # the minimum count wins


def test_early_stopping_minimum_is_the_binomial_one():
    assert min_requests(99, 0.95) == 299  # 0.99^299 = 0.0496 <= 0.05 < 0.99^298
    assert min_requests(99, 0.99) == 459
    assert early_stopping_met(0, 299, 99, 0.95) and not early_stopping_met(0, 298, 99, 0.95)
    assert early_stopping_met(3, 1000, 99, 0.95)  # binom.cdf(3, 1000, 0.01) = 0.010
    assert not early_stopping_met(10, 1000, 99, 0.95)


def test_settings_from_config_list_the_levels_up_to_the_cores():
    cfg = {
        "p99_ms": 5,
        "duration_s": 0.5,
        "batching": {"max_batch": 8, "max_wait_ms": 1},
        "queue_size": 64,
        "confidence": 0.95,
        "resolution": 0.1,
    }
    s = ServingSettings.from_cfg(cfg, cores=6)
    assert s.clients == (1, 2, 4, 8) and s.batching == Batching(8, 1e-3)
