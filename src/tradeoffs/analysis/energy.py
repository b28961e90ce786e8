"""Energy proxy: estimated energy of one inference, in microjoules, from MACs and memory traffic.

Per-operation energies at 45 nm, 0.9 V (M. Horowitz, "Computing's energy problem (and what we
can do about it)", ISSCC 2014, pp. 10-14, doi:10.1109/ISSCC.2014.6757323; the 32-bit DRAM
figure as tabulated from it by Han et al., "Learning both weights and connections for efficient
neural networks", NeurIPS 2015, Table 1):

    32-bit float multiply 3.7 pJ, 32-bit float add 0.9 pJ,
    32-bit read from an 8 KB SRAM 5 pJ, 32-bit read from DRAM 640 pJ.

Lower bit widths scale from the 32-bit float values: a multiplier's energy grows with the square
of the operand width (array multiplier), an adder's and a memory access's linearly. At 8 bits
this gives 0.23 pJ per multiply, close to Horowitz's 0.2 pJ for an 8-bit integer multiply; at
16 bits 0.93 pJ against his 1.1 pJ for a 16-bit float multiply. A binary MAC (XNOR + popcount,
larq) costs a 1-bit multiply and add.

Model of one inference at batch 1:
    compute  = MACs x (E_mult(b) + E_add(b)), binary MACs at b = 1
    operands = MACs x E_sram(b): one activation read from on-chip SRAM per MAC
    weights  = params x E_dram(b): every weight fetched once from DRAM, binary weights at 1 bit
with b the run's bit width (`registry.PRECISION_BITS`; 32 where the precision is not listed).
It ranks models by arithmetic and traffic; it is not a measurement (see
`tradeoffs.measure.energy` for measured energy where the host exposes it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tradeoffs.registry import PRECISION_BITS

FP32_MULT_PJ = 3.7
FP32_ADD_PJ = 0.9
SRAM_32_PJ = 5.0
DRAM_32_PJ = 640.0
BINARY_BITS = 1


def mult_pj(bits: float) -> float:
    return FP32_MULT_PJ * (bits / 32) ** 2


def add_pj(bits: float) -> float:
    return FP32_ADD_PJ * bits / 32


def mac_pj(bits: float) -> float:
    """One multiply-accumulate at `bits` bits, in picojoules."""
    return mult_pj(bits) + add_pj(bits)


def sram_pj(bits: float) -> float:
    return SRAM_32_PJ * bits / 32


def dram_pj(bits: float) -> float:
    return DRAM_32_PJ * bits / 32


def energy_components_pj(
    macs: float,
    params: float,
    bits: float,
    binary_mac_ratio: float = 0.0,
    binary_params: float = 0.0,
) -> dict[str, float]:
    """Compute, operand and weight energy of one inference, in picojoules."""
    binary_macs = macs * binary_mac_ratio
    dense_macs = macs - binary_macs
    dense_params = params - binary_params
    return {
        "compute": dense_macs * mac_pj(bits) + binary_macs * mac_pj(BINARY_BITS),
        "operands": dense_macs * sram_pj(bits) + binary_macs * sram_pj(BINARY_BITS),
        "weights": dense_params * dram_pj(bits) + binary_params * dram_pj(BINARY_BITS),
    }


def energy_proxy(metrics: Mapping[str, Any]) -> float | None:
    """Estimated energy of one inference in microjoules, or None without MACs and params."""
    macs, params = metrics.get("macs"), metrics.get("params")
    if metrics.get("status") != "ok" or macs is None or params is None:
        return None
    bits = PRECISION_BITS.get(metrics.get("precision"), 32)
    parts = energy_components_pj(
        macs,
        params,
        bits,
        binary_mac_ratio=metrics.get("binary_mac_ratio") or 0.0,
        binary_params=min(metrics.get("binary_params") or 0, params),
    )
    return sum(parts.values()) * 1e-6
