"""The machine fingerprint: readers fed forged /proc, sysfs and sysctl text, the host id, and
the fingerprint in every record's provenance."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tradeoffs import fingerprint
from tradeoffs.records.provenance import now, provenance
from tradeoffs.runspec import RunSpec

X86 = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 143
model name\t: Intel(R) Xeon(R) Platinum 8480+
stepping\t: 8
cache size\t: 107520 KB
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw avx512_vnni amx_tile amx_int8 ht

processor\t: 1
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 143
model name\t: Intel(R) Xeon(R) Platinum 8480+
stepping\t: 8
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw avx512_vnni amx_tile amx_int8 ht

processor\t: 2
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 143
model name\t: Intel(R) Xeon(R) Platinum 8480+
stepping\t: 8
physical id\t: 0
core id\t\t: 1
flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw avx512_vnni amx_tile amx_int8 ht
"""

ARM = """processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes sve sve2 bf16 i8mm
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x0
CPU part\t: 0xd4f
CPU revision\t: 0

processor\t: 1
Features\t: fp asimd evtstrm aes sve sve2 bf16 i8mm
CPU implementer\t: 0x41
CPU architecture: 8
CPU part\t: 0xd4f
CPU revision\t: 0
"""

SYSCTL = """machdep.cpu.brand_string: Apple M2 Pro
hw.logicalcpu: 12
hw.physicalcpu: 12
hw.memsize: 34359738368
hw.l1dcachesize: 65536
hw.l1icachesize: 131072
hw.l2cachesize: 4194304
hw.optional.neon: 1
hw.optional.arm.FEAT_BF16: 1
hw.optional.arm.FEAT_I8MM: 0
"""


def test_x86_cpuinfo_gives_model_vendor_stepping_vector_sets_and_cores():
    cpu = fingerprint.parse_cpuinfo(X86)
    assert cpu["cpu_model"] == "Intel(R) Xeon(R) Platinum 8480+"
    assert (cpu["vendor"], cpu["family"], cpu["model"], cpu["stepping"]) == (
        "GenuineIntel",
        "6",
        "143",
        "8",
    )
    assert cpu["vector_extensions"] == [
        "amx_int8",
        "amx_tile",
        "avx",
        "avx2",
        "avx512_vnni",
        "avx512bw",
        "avx512f",
        "fma",
        "sse4_2",
    ]
    assert (cpu["logical_cores"], cpu["physical_cores"]) == (3, 2)  # two hyperthreads share core 0
    assert cpu["cache_size"] == "107520 KB"


def test_arm_cpuinfo_names_neon_and_sve_and_the_implementer():
    cpu = fingerprint.parse_cpuinfo(ARM)
    assert cpu["vendor"] == "ARM" and cpu["model"] == "0xd4f" and cpu["family"] == "8"
    assert cpu["vector_extensions"] == ["asimd", "bf16", "i8mm", "sve", "sve2"]
    assert cpu["logical_cores"] == 2 and cpu["physical_cores"] is None


def test_macos_sysctl_gives_the_chip_cores_memory_caches_and_neon():
    cpu = fingerprint.parse_sysctl(SYSCTL)
    assert cpu["cpu_model"] == "Apple M2 Pro" and cpu["vendor"] == "Apple"
    assert (cpu["logical_cores"], cpu["physical_cores"], cpu["memory_gib"]) == (12, 12, 32.0)
    assert cpu["caches"] == {"L1d": "64K", "L1i": "128K", "L2": "4096K"}
    assert cpu["vector_extensions"] == ["asimd", "bf16"]


def test_meminfo_and_sysfs_caches(tmp_path: Path):
    assert fingerprint.parse_meminfo("MemTotal:       24641536 kB\nMemFree: 1 kB\n") == 23.5
    assert fingerprint.parse_meminfo("nothing") is None
    for index, (level, kind, size) in enumerate(
        [("1", "Data", "48K"), ("1", "Instruction", "32K"), ("2", "Unified", "2048K")]
    ):
        folder = tmp_path / f"index{index}"
        folder.mkdir()
        for name, value in (("level", level), ("type", kind), ("size", size)):
            (folder / name).write_text(value + "\n")
    assert fingerprint.read_caches(tmp_path) == {"L1d": "48K", "L1i": "32K", "L2": "2048K"}


def test_nvidia_driver_files_name_each_gpu_and_the_driver(tmp_path: Path):
    gpu = tmp_path / "gpus" / "0000:3b:00.0"
    gpu.mkdir(parents=True)
    (gpu / "information").write_text("Model: \t\t NVIDIA H200\nBus Location: \t 0000:3b:00.0\n")
    (tmp_path / "version").write_text(
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 2024\n"
    )
    gpus, driver = fingerprint.parse_nvidia_proc(tmp_path)
    assert gpus == [{"model": "NVIDIA H200", "bus": "0000:3b:00.0"}]
    assert driver == "550.54.15"
    assert fingerprint.parse_nvidia_proc(tmp_path / "absent") == ([], None)


def test_host_id_is_stable_across_load_and_kernel_but_not_across_machines():
    machine = {**fingerprint.parse_cpuinfo(X86), "hostname": "a", "memory_gib": 503.4}
    machine["os"] = {"machine": "x86_64", "kernel": "6.1"}
    same = {**machine, "usable_cpus": 1, "threads_used": 8, "os": {"machine": "x86_64"}}
    other = {**machine, "hostname": "b"}
    assert fingerprint.host_id(machine) == fingerprint.host_id(same)
    assert fingerprint.host_id(machine) != fingerprint.host_id(other)
    assert len(fingerprint.host_id(machine)) == 8


def test_host_name_is_the_configured_one_else_the_exported_one_else_the_id(monkeypatch):
    monkeypatch.delenv(fingerprint.HOST_ENV, raising=False)
    assert fingerprint.host_name("lab-h100") == "lab-h100"
    assert fingerprint.host_name() == fingerprint.fingerprint()["host_id"]
    monkeypatch.setenv(fingerprint.HOST_ENV, "laptop")
    assert fingerprint.host_name() == "laptop"
    with pytest.raises(ValueError, match="not an identifier"):
        fingerprint.host_name("../escape")


def test_a_cpu_job_imports_no_framework_for_its_fingerprint():
    code = (
        "import sys; from tradeoffs import fingerprint; fingerprint.fingerprint('cpu', 2); "
        "print(sorted({'torch', 'tensorflow', 'numba'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_record_carries_the_fingerprint_host_and_data_digest(tmp_path, monkeypatch):
    monkeypatch.setenv(fingerprint.HOST_ENV, "laptop")
    prepared = tmp_path / "data" / "prepared" / "digits"
    prepared.mkdir(parents=True)
    (prepared / "meta.json").write_text('{"arrays": {"test_x.npy": {"sha256": "ab"}}}')
    spec = RunSpec(
        study="s",
        dataset="digits",
        model="mlp",
        act="relu",
        precision="fp32",
        backend="torch-cpu",
        seed=0,
        run_dir=tmp_path / "run",
        data_dir=tmp_path / "data",
        study_config={},
    )
    record = provenance(spec, now())
    machine = record["fingerprint"]
    assert record["host"] == "laptop" and record["host_id"] == machine["host_id"]
    assert machine["threads_used"] == spec.threads and machine["logical_cores"]
    assert machine["os"]["kernel"] and isinstance(machine["vector_extensions"], list)
    assert len(record["data_digest"]) == 16
    (prepared / "meta.json").unlink()
    assert provenance(spec, now())["data_digest"] is None


class _FakeCuda:
    """torch.cuda as a GPU job sees it after training on the device; counts every query."""

    def __init__(self):
        self.queries = 0

    def is_initialized(self):
        self.queries += 1
        return True

    def device_count(self):
        return 1

    def get_device_properties(self, index):
        return SimpleNamespace(name="NVIDIA H200", total_memory=141 * 2**30, major=9, minor=0)


def test_a_gpu_job_reports_its_device_from_the_framework_it_imported(monkeypatch):
    cuda = _FakeCuda()
    torch = SimpleNamespace(
        cuda=cuda,
        version=SimpleNamespace(cuda="12.8", hip=None),
        backends=SimpleNamespace(cudnn=SimpleNamespace(version=lambda: 91002)),
    )
    monkeypatch.setitem(sys.modules, "torch", torch)
    # A torch job: TensorFlow, imported by an earlier test of the session, would add its facts.
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    monkeypatch.setattr(fingerprint, "parse_nvidia_proc", lambda: ([], "570.86"))
    assert fingerprint.accelerators("cpu") == [] and cuda.queries == 0  # a CPU job never asks
    (gpu,) = fingerprint.accelerators("cuda")
    assert gpu == {
        "kind": "cuda",
        "model": "NVIDIA H200",
        "memory_gib": 141.0,
        "compute_capability": "9.0",
        "driver": "570.86",
        "cuda": "12.8",
        "cudnn": 91002,
        "rocm": None,
    }
