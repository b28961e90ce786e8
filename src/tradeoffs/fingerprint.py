"""The machine a record was made on: CPU model and vector instruction sets, caches, cores,
memory, OS and kernel, accelerators with their driver and runtime versions, and a short stable
host id.

A latency means nothing without its machine (AVX2 against AVX-512 changes every one), so every
record's provenance carries this. The readers take text or a folder, so tests feed them forged
machines. Accelerator runtime versions come only from a framework the job has already imported
(`sys.modules`) and only once that framework has started its device: a CPU job never imports or
initialises CUDA for this.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import socket
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

HOST_ENV = "TRADEOFFS_HOST"  # the Snakefile exports config `host:` (or this machine's id) to jobs
HOST_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
CPUINFO = Path("/proc/cpuinfo")
MEMINFO = Path("/proc/meminfo")
CACHE_DIR = Path("/sys/devices/system/cpu/cpu0/cache")
NVIDIA_PROC = Path("/proc/driver/nvidia")

# Vector extensions worth naming, as /proc/cpuinfo spells them (x86 `flags`, ARM `Features`).
VECTOR_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx_vnni",
    "asimd",
    "asimdhp",
    "asimddp",
    "sve",
    "sve2",
    "sme",
    "bf16",
    "i8mm",
)
VECTOR_PREFIXES = ("avx512", "amx")
ARM_IMPLEMENTERS = {"0x41": "ARM", "0x61": "Apple", "0xc0": "Ampere", "0x48": "HiSilicon"}
# Fields that name the machine rather than its state: the host id is a hash of these.
STABLE_FIELDS = ("hostname", "cpu_model", "vendor", "family", "model", "stepping", "logical_cores")


def vector_extensions(flags: set[str]) -> list[str]:
    """The SIMD/matrix extensions among a CPU's flags (NEON appears as `asimd` on ARM Linux)."""
    named = {f for f in flags if f in VECTOR_FLAGS or f.startswith(VECTOR_PREFIXES)}
    return sorted(named)


def parse_cpuinfo(text: str) -> dict[str, Any]:
    """Linux /proc/cpuinfo: model string, vendor, family/model/stepping, vector extensions,
    logical and physical cores (x86 and ARM layouts)."""
    blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip()]
    entries = []
    for block in blocks:
        entry = {}
        for line in block.splitlines():
            if ":" in line:
                key, value = line.split(":", 1)
                entry[key.strip()] = value.strip()
        entries.append(entry)
    processors = [e for e in entries if "processor" in e] or entries[:1]
    first = processors[0] if processors else {}
    flags = set((first.get("flags") or first.get("Features") or "").split())
    cores = {(e.get("physical id", "0"), e.get("core id")) for e in processors if "core id" in e}
    implementer = first.get("CPU implementer")
    return {
        "cpu_model": first.get("model name") or first.get("Model") or first.get("Hardware"),
        "vendor": first.get("vendor_id") or ARM_IMPLEMENTERS.get(implementer or "", implementer),
        "family": first.get("cpu family") or first.get("CPU architecture"),
        "model": first.get("model") or first.get("CPU part"),
        "stepping": first.get("stepping") or first.get("CPU revision"),
        "vector_extensions": vector_extensions(flags),
        "logical_cores": len(processors) or None,
        "physical_cores": len(cores) or None,
        "cache_size": first.get("cache size"),
    }


def parse_sysctl(text: str) -> dict[str, Any]:
    """macOS `sysctl -a` output: the same facts as `parse_cpuinfo`, plus memory."""
    values = {}
    for line in text.splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            values[key.strip()] = value.strip()
    flags = set(values.get("machdep.cpu.features", "").lower().split())
    flags |= set(values.get("machdep.cpu.leaf7_features", "").lower().replace(".", "_").split())
    arm = {"FEAT_SME": "sme", "FEAT_BF16": "bf16", "FEAT_I8MM": "i8mm", "FEAT_DotProd": "asimddp"}
    if values.get("hw.optional.neon") == "1" or values.get("hw.optional.AdvSIMD") == "1":
        flags.add("asimd")
    flags |= {name for feat, name in arm.items() if values.get(f"hw.optional.arm.{feat}") == "1"}
    caches = {
        level: _bytes(values.get(f"hw.{key}"))
        for level, key in (("L1d", "l1dcachesize"), ("L1i", "l1icachesize"), ("L2", "l2cachesize"))
    }
    if values.get("hw.l3cachesize"):
        caches["L3"] = _bytes(values["hw.l3cachesize"])
    memory = values.get("hw.memsize")
    return {
        "cpu_model": values.get("machdep.cpu.brand_string"),
        "vendor": values.get("machdep.cpu.vendor") or "Apple",
        "family": values.get("machdep.cpu.family") or values.get("hw.cpufamily"),
        "model": values.get("machdep.cpu.model"),
        "stepping": values.get("machdep.cpu.stepping"),
        "vector_extensions": vector_extensions(flags),
        "logical_cores": _int(values.get("hw.logicalcpu")),
        "physical_cores": _int(values.get("hw.physicalcpu")),
        "caches": {k: v for k, v in caches.items() if v},
        "memory_gib": round(int(memory) / 2**30, 1) if memory else None,
    }


def parse_meminfo(text: str) -> float | None:
    """/proc/meminfo's MemTotal in GiB."""
    match = re.search(r"^MemTotal:\s+(\d+)\s*kB", text, flags=re.M)
    return round(int(match.group(1)) / 2**20, 1) if match else None


def read_caches(folder: Path = CACHE_DIR) -> dict[str, str]:
    """Linux sysfs caches of one core: {"L1d": "32K", "L1i": ..., "L2": ..., "L3": ...}."""
    caches = {}
    for index in sorted(folder.glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        suffix = {"Data": "d", "Instruction": "i"}.get(kind, "")
        caches[f"L{level}{suffix}"] = size
    return caches


def parse_nvidia_proc(folder: Path = NVIDIA_PROC) -> tuple[list[dict[str, Any]], str | None]:
    """NVIDIA's kernel driver files: each GPU's model and bus, and the driver version. Plain
    file reads: no CUDA library is loaded."""
    gpus = []
    for info in sorted(folder.glob("gpus/*/information")):
        fields = {}
        for line in _read(info).splitlines():
            if ":" in line:
                key, value = line.split(":", 1)
                fields[key.strip()] = value.strip()
        gpus.append({"model": fields.get("Model"), "bus": fields.get("Bus Location")})
    match = re.search(r"Kernel Module\s+(?:for \S+\s+)?(\d[\w.]*)", _read(folder / "version"))
    return gpus, match.group(1) if match else None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _bytes(value: str | None) -> str | None:
    if not value or not value.isdigit() or int(value) == 0:
        return None
    return f"{int(value) // 1024}K"


@cache
def _cpu() -> dict[str, Any]:
    if sys.platform == "darwin":
        try:
            text = subprocess.run(
                ["sysctl", "-a"], capture_output=True, text=True, check=True, timeout=10
            ).stdout
        except (OSError, subprocess.SubprocessError):
            text = ""
        return parse_sysctl(text)
    cpu = parse_cpuinfo(_read(CPUINFO))
    cpu["caches"] = read_caches() or ({"cache": cpu["cache_size"]} if cpu["cache_size"] else {})
    cpu["memory_gib"] = parse_meminfo(_read(MEMINFO))
    return cpu


def _usable_cpus() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def _os() -> dict[str, Any]:
    try:
        distro = platform.freedesktop_os_release().get("PRETTY_NAME")
    except OSError:
        distro = None
    system = platform.system()
    if system == "Darwin":
        distro = f"macOS {platform.mac_ver()[0]}"
    return {
        "system": system,
        "kernel": platform.release(),
        "distribution": distro,
        "machine": platform.machine(),
        "python": platform.python_version(),
    }


def accelerators(device: str = "cpu") -> list[dict[str, Any]]:
    """Each accelerator: the driver's list of NVIDIA GPUs (file reads), and, for a job whose
    framework is already imported and on its device, model, memory and runtime versions."""
    gpus, driver = parse_nvidia_proc()
    found = [{"kind": "cuda", **gpu, "driver": driver} for gpu in gpus]
    torch = sys.modules.get("torch")
    if torch is not None and device == "cuda" and torch.cuda.is_initialized():
        found = [_torch_cuda(torch, i, driver) for i in range(torch.cuda.device_count())]
    elif torch is not None and device == "mps" and torch.backends.mps.is_available():
        found = [{"kind": "mps", "model": "Apple MPS", "macos": platform.mac_ver()[0]}]
    tf = sys.modules.get("tensorflow")
    if tf is not None and device == "cuda":
        build = tf.sysconfig.get_build_info()
        for gpu in found:
            gpu.update(cuda=build.get("cuda_version"), cudnn=build.get("cudnn_version"))
    return found


def _torch_cuda(torch: Any, index: int, driver: str | None) -> dict[str, Any]:
    props = torch.cuda.get_device_properties(index)
    hip = getattr(torch.version, "hip", None)
    return {
        "kind": "rocm" if hip else "cuda",
        "model": props.name,
        "memory_gib": round(props.total_memory / 2**30, 1),
        "compute_capability": f"{props.major}.{props.minor}",
        "driver": driver,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "rocm": hip,
    }


def fingerprint(device: str = "cpu", threads: int | None = None) -> dict[str, Any]:
    """This machine, as every record's provenance carries it (`host_id` included)."""
    cpu = {k: v for k, v in _cpu().items() if k != "cache_size"}
    facts = {
        "hostname": socket.gethostname(),
        **cpu,
        "usable_cpus": _usable_cpus(),
        "threads_used": threads,
        "os": _os(),
        "accelerators": accelerators(device),
    }
    return {"host_id": host_id(facts), **facts}


def host_id(facts: dict[str, Any]) -> str:
    """8 hex digits of a sha256 over the fields that name the machine (not its load, kernel
    updates or the job's device)."""
    stable = {key: facts.get(key) for key in STABLE_FIELDS}
    stable["memory_gib"] = round(facts.get("memory_gib") or 0)
    stable["machine"] = facts.get("os", {}).get("machine")
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:8]


def check_host_name(name: str) -> str:
    """A host name becomes a folder (`results/hosts/{host}`): an identifier, never a path."""
    if not HOST_PATTERN.fullmatch(name):
        raise ValueError(
            f"host name {name!r} is not an identifier ([A-Za-z0-9][A-Za-z0-9_.-]*): "
            "set config `host:` to a plain name such as lab-h100"
        )
    return name


def host_name(configured: str | None = None) -> str:
    """The name tables show: config `host:`, else the one the Snakefile exported to the job,
    else this machine's host id."""
    name = configured or os.environ.get(HOST_ENV) or fingerprint()["host_id"]
    return check_host_name(name)


def main() -> None:
    """Print this machine's fingerprint (`python -m tradeoffs.fingerprint`)."""
    print(json.dumps(fingerprint(threads=None), indent=2))


if __name__ == "__main__":
    main()
