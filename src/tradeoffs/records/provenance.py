"""The `provenance` every record carries: who, where and with what it was made (package
versions, git commit, host and machine fingerprint, CPU, config hash, data digest, times)."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import platform
import socket
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from tradeoffs import fingerprint, io
from tradeoffs.runspec import RunSpec

PACKAGES = (
    "torch",
    "torchvision",
    "tensorflow",
    "tf-keras",
    "larq",
    "larq-compute-engine",
    "onnx",
    "onnxruntime",
    "numba",
    "numpy",
    "ml-dtypes",
    "scikit-learn",
    "snakemake",
)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@cache
def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def data_digest(spec: RunSpec) -> str | None:
    """A hash of the run's prepared arrays' sha256 sums (meta.json): equal digests, same data.
    None when the dataset was never prepared here (a run skipped before `prepare`)."""
    try:
        arrays = io.read_json(spec.prepared_dir() / "meta.json")["arrays"]
    except (OSError, KeyError, ValueError):
        return None
    canonical = json.dumps(arrays, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def provenance(spec: RunSpec, started: str, device_name: str | None = None) -> dict[str, Any]:
    """Who, where and with what a record was made: `host` is the name tables show (config
    `host:`, else the machine's `host_id`), `fingerprint` the machine itself."""
    machine = fingerprint.fingerprint(spec.device, spec.threads)
    return {
        "versions": _versions(),
        "git_commit": _git_commit(),
        "host": fingerprint.host_name(),
        "host_id": machine["host_id"],
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "gpu": device_name if spec.device != "cpu" else None,
        "threads": spec.threads,
        "config_hash": spec.config_hash,
        "data_digest": data_digest(spec),
        "fingerprint": machine,
        "started": started,
        "finished": now(),
    }
