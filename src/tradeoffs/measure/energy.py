"""Measured energy over a block of work, where the host exposes a counter.

- NVIDIA GPUs: NVML's total-energy counter (millijoules since driver load; Volta and newer), only
  when `pynvml` is importable. The GPU is the first of CUDA_VISIBLE_DEVICES when that is an
  index, else GPU 0.
- Linux CPUs: RAPL package counters `/sys/class/powercap/intel-rapl:N/energy_uj` (whole
  packages, so idle power and other processes on the socket count too), corrected for
  wrap-around at `max_energy_range_uj`. Reading them often needs root.

Anything else (Apple MPS, no permission, no counter) is "not measurable here" with the reason in
`source`, and `energy_uj` stays None.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import TracebackType

RAPL_ROOT = Path("/sys/class/powercap")


class NotMeasurableError(Exception):
    """Why this host gives no energy counter."""


class _Rapl:
    source = "rapl"

    def __init__(self, root: Path = RAPL_ROOT) -> None:
        self.zones = sorted(p for p in root.glob("intel-rapl:*") if p.name.count(":") == 1)
        if not self.zones:
            raise NotMeasurableError("no RAPL package counter under /sys/class/powercap")
        try:
            self.ranges = [int((z / "max_energy_range_uj").read_text()) for z in self.zones]
            self.read()
        except PermissionError as error:
            raise NotMeasurableError(f"RAPL counters not readable ({error.filename})") from error
        except (OSError, ValueError) as error:
            raise NotMeasurableError(f"RAPL counters unusable: {error}") from error

    def read(self) -> list[int]:
        return [int((z / "energy_uj").read_text()) for z in self.zones]

    def delta_uj(self, start: list[int], end: list[int]) -> float:
        # A counter that passed its range restarted from 0: the modulo adds the range back.
        return float(sum((e - s) % r for s, e, r in zip(start, end, self.ranges, strict=True)))


class _Nvml:
    source = "nvml"

    def __init__(self) -> None:
        try:
            self.nvml = importlib.import_module("pynvml")
        except ImportError as error:
            raise NotMeasurableError("pynvml is not installed") from error
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0]
        index = int(visible) if visible.isdigit() else 0
        try:
            self.nvml.nvmlInit()
            self.handle = self.nvml.nvmlDeviceGetHandleByIndex(index)
            self.read()
        except self.nvml.NVMLError as error:
            raise NotMeasurableError(f"NVML energy counter unavailable: {error}") from error

    def read(self) -> list[int]:
        return [self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)]

    def delta_uj(self, start: list[int], end: list[int]) -> float:
        return float(end[0] - start[0]) * 1e3  # NVML counts millijoules


def _counter(device: str, rapl_root: Path) -> _Rapl | _Nvml:
    if device == "cuda":
        return _Nvml()
    if device == "cpu":
        return _Rapl(rapl_root)
    raise NotMeasurableError(f"no energy counter for device {device!r}")


class EnergyMeter:
    """Energy used between `__enter__` and `__exit__` on `device` ("cpu" or "cuda").

    `energy_uj` is None when not measurable; `source` names the counter or says why not.
    """

    def __init__(self, device: str = "cpu", rapl_root: Path = RAPL_ROOT) -> None:
        self.device = device
        self.energy_uj: float | None = None
        try:
            self._counter: _Rapl | _Nvml | None = _counter(device, rapl_root)
            self.source = self._counter.source
        except NotMeasurableError as why:
            self._counter = None
            self.source = f"not measurable here: {why}"

    def __enter__(self) -> EnergyMeter:
        if self._counter is not None:
            self._start = self._counter.read()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._counter is not None and exc_type is None:
            self.energy_uj = self._counter.delta_uj(self._start, self._counter.read())

    def per_item_uj(self, items: int) -> float | None:
        """Energy per item (e.g. per inference), or None when not measured."""
        return None if self.energy_uj is None or items <= 0 else self.energy_uj / items
