"""The energy proxy's arithmetic and the energy meter's counters."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeoffs.analysis.energy import energy_components_pj, energy_proxy, mac_pj
from tradeoffs.measure.energy import EnergyMeter
from tradeoffs.measure.sweep import SweepSettings, sweep


def _metrics(**values: object) -> dict:
    return {"status": "ok", "precision": "fp32", "macs": 1000, "params": 10, **values}


def test_fp32_hand_computed() -> None:
    # 1000 MACs x (3.7 + 0.9) pJ + 1000 SRAM reads x 5 pJ + 10 weights x 640 pJ = 16 000 pJ
    assert energy_proxy(_metrics()) == pytest.approx(0.016)  # µJ


def test_lower_bit_widths_scale() -> None:
    # fp8: mult 3.7/16, add 0.9/4, SRAM 5/4, DRAM 640/4
    expected = 1000 * (3.7 / 16 + 0.9 / 4 + 5 / 4) + 10 * 160
    assert energy_proxy(_metrics(precision="fp8")) == pytest.approx(expected * 1e-6)
    assert mac_pj(8) == pytest.approx(3.7 / 16 + 0.9 / 4)


def test_binary_macs_cost_less_than_fp32_ones() -> None:
    binary = _metrics(binary_mac_ratio=1.0, binary_params=10)
    assert energy_proxy(binary) < energy_proxy(_metrics())
    parts = energy_components_pj(1000, 10, 32, binary_mac_ratio=1.0, binary_params=10)
    assert parts["compute"] == pytest.approx(1000 * (3.7 / 1024 + 0.9 / 32))
    assert parts["weights"] == pytest.approx(10 * 20)


def test_no_estimate_without_macs_or_for_runs_that_did_not_complete() -> None:
    assert energy_proxy(_metrics(macs=None)) is None
    assert energy_proxy(_metrics(status="skipped")) is None


def _rapl(root: Path, energy: int, max_range: int = 1000) -> None:
    zone = root / "intel-rapl:0"
    zone.mkdir(parents=True, exist_ok=True)
    (zone / "energy_uj").write_text(str(energy))
    (zone / "max_energy_range_uj").write_text(str(max_range))


def test_rapl_counter_with_wrap_around(tmp_path: Path) -> None:
    _rapl(tmp_path, 900)
    (tmp_path / "intel-rapl:0:0").mkdir()  # a sub-zone, inside the package: not counted
    with EnergyMeter("cpu", rapl_root=tmp_path) as meter:
        _rapl(tmp_path, 100)  # passed 1000 and restarted
    assert meter.source == "rapl"
    assert meter.energy_uj == 200
    assert meter.per_item_uj(4) == 50


def test_not_measurable_says_why(tmp_path: Path) -> None:
    with EnergyMeter("cpu", rapl_root=tmp_path) as meter:
        pass
    assert meter.energy_uj is None and meter.per_item_uj(10) is None
    assert meter.source.startswith("not measurable here: no RAPL")
    assert "not measurable here" in EnergyMeter("mps").source


def test_the_sweep_reports_measured_energy_or_why_not() -> None:
    settings = SweepSettings(
        batch_sizes=(1, 2),
        throughput_batch=2,
        warmup=1,
        repeats=3,
        max_repeats=3,
        max_seconds=0.01,
        p99_ci_rel=0.1,
        memory_budget_mb=4096,
    )
    result = sweep(lambda batch: lambda: None, settings)
    assert "energy_measured_uj_per_inf" in result
    assert result["energy_measured_source"] in ("rapl", "nvml") or (
        result["energy_measured_source"].startswith("not measurable here")
        and result["energy_measured_uj_per_inf_reason"] == result["energy_measured_source"]
    )
