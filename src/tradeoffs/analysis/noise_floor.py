"""The machine's run-to-run noise floor, quoted beside a study's latency findings.

Two sources, each named where it is quoted:
- the last measurement of `benchmarks/noise_floor.py` (one benchmark job repeated in fresh
  processes), which writes `{results_dir}/noise_floor.json` (`measurement`, `write`);
- the study's own repeated benchmark (`from_seeds`): the seeds of one configuration on one
  machine are separate benchmark jobs of the same network, so the spread of their p50 latency
  is this run's own run-to-run variation.
The coefficient of variation is std / mean (`scipy.stats.variation`, population std). With
neither, the sentence says that no measurement exists rather than offering a figure.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradeoffs import io
from tradeoffs.analysis.load import CONFIG_KEYS, HOST, ok_runs

FILE = "noise_floor.json"
SCRIPT = "benchmarks/noise_floor.py"
MEASURES = ("latency_ms_p50", "offline_throughput_sps")


def summarise(jobs: Sequence[Mapping[str, float]], host: str) -> dict[str, Any]:
    """The record of one noise-floor measurement: per measure the mean and the run-to-run CV
    over `jobs` (each a repeated benchmark job's figures), the host and when."""
    from scipy import stats  # imported where used: it costs jobs without statistics 0.6 s

    if len(jobs) < 2:
        raise ValueError(f"a noise floor needs at least 2 jobs, got {len(jobs)}")
    record: dict[str, Any] = {
        "host": host,
        "jobs": len(jobs),
        "measured": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    for key in MEASURES:
        values = np.array([job[key] for job in jobs], dtype=np.float64)
        record[f"{key}_mean"] = float(values.mean())
        record[f"{key}_cv"] = float(stats.variation(values))
    return record


def write(path: str | Path, record: Mapping[str, Any]) -> None:
    io.write_json(path, dict(record))


def measurement(path: str | Path | None) -> dict[str, Any] | None:
    """The last measurement at `path`, None when there is none. A file that is not such a
    record is reported, not trusted: {"unreadable": why}."""
    if path is None or not Path(path).exists():
        return None
    try:
        record = io.read_json(path)
    except (OSError, json.JSONDecodeError) as error:
        return {"unreadable": f"{path}: {error}"}
    keys = ("host", "jobs", "measured", *(f"{k}_cv" for k in MEASURES))
    missing = [k for k in keys if not isinstance(record, dict) or k not in record]
    if missing:
        return {"unreadable": f"{path} lacks {', '.join(missing)}"}
    cvs = [record[f"{k}_cv"] for k in MEASURES]
    if not all(isinstance(v, int | float) and math.isfinite(v) and v >= 0 for v in cvs):
        return {"unreadable": f"{path}: a CV is not a non-negative number"}
    return {**record, "path": str(path)}


def from_seeds(runs: pd.DataFrame, column: str = "latency_ms_p50") -> dict[str, Any] | None:
    """The study's own run-to-run variation: the median over configurations with at least two
    ok seeds on one machine of the CV of `column` across those seeds; None without any."""
    from scipy import stats

    done = ok_runs(runs).dropna(subset=[column]) if column in runs else runs.iloc[:0]
    keys = [k for k in (*CONFIG_KEYS, HOST) if k in done]
    if done.empty or "seed" not in done:
        return None
    cvs = [
        float(stats.variation(group[column].to_numpy(dtype=np.float64)))
        for _, group in done.groupby(keys, dropna=False)
        if group["seed"].nunique() >= 2
    ]
    if not cvs:
        return None
    return {"cv": float(np.median(cvs)), "configurations": len(cvs)}


def noise_sentence(runs: pd.DataFrame, measured: Mapping[str, Any] | None) -> str:
    """The noise floor in one sentence, each figure with where it comes from."""
    parts = []
    own = from_seeds(runs)
    if own is not None:
        parts.append(
            f"this study's own repeated benchmark gives a run-to-run CV of p50 latency of "
            f"{100 * own['cv']:.1f}% (median over the {own['configurations']} configurations "
            "with several seeds, one benchmark job each)"
        )
    if measured is not None and "unreadable" in measured:
        parts.append(f"the noise-floor file is unreadable ({measured['unreadable']})")
    elif measured is not None:
        hosts = set(runs[HOST].dropna().astype(str)) if HOST in runs else set()
        where = "" if measured["host"] in hosts else ", not a machine of this study's runs"
        parts.append(
            f"{SCRIPT} last measured a run-to-run CV of p50 latency of "
            f"{100 * measured['latency_ms_p50_cv']:.1f}% and of offline throughput of "
            f"{100 * measured['offline_throughput_sps_cv']:.1f}% over {measured['jobs']} jobs "
            f"on {measured['host']}{where} ({measured['measured']}, {measured['path']})"
        )
    if not parts:
        return (
            "Noise floor: not measured (no study configuration has several seeds, and "
            f"{SCRIPT} has written no {FILE}), so no latency difference here is checked "
            "against the machine's own variation."
        )
    return "Noise floor: " + "; ".join(parts) + "."
