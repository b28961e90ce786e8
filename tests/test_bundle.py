"""Bundles: one machine's runs packed with sha256 sums, imported all or nothing."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from test_analysis_records import write_run

from tradeoffs.bundle import BundleError, import_bundle, write_bundle
from tradeoffs.config import ConfigError, check_config
from tradeoffs.identity import RunId as Run

ROOT = Path(__file__).resolve().parents[1]

CONFIG = {"studies": {"backends": {}}, "results_dir": "results"}
RUNS = [Run("backends", "digits", "mnist_cnn", "relu", "fp32", "torch-cpu", s) for s in (0, 1)]


def machine(root: Path, host: str = "laptop", **values) -> Path:
    """A results directory with two runs made on `host` and a model file each."""
    results = root / "results"
    for run in RUNS:
        folder = write_run(results, run, host=host, **values).parent
        (folder / "model.pt").write_bytes(b"weights")
        (folder / "logs").mkdir()
        (folder / "logs" / "train.log").write_text("epoch 1\n")
        (folder / "checkpoint.pt").write_bytes(b"resume state")
    return results


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def rewrite(bundle: Path, target: Path, change) -> Path:
    """A copy of `bundle` whose members pass through `change(info, data)` -> (info, data)."""
    with tarfile.open(bundle) as src, tarfile.open(target, "w:gz") as dst:
        for member in src:
            data = src.extractfile(member).read()
            info, data = change(member, data)
            if info.isfile():
                info.size = len(data)
            dst.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return target


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    results = machine(tmp_path / "laptop")
    target = results / "bundles" / "laptop.tar.gz"
    write_bundle(results, "laptop", CONFIG, target)
    return target


def test_a_bundle_round_trips_runs_with_their_sums_config_and_fingerprint(bundle, tmp_path):
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("laptop/manifest.json"))
    assert all(n.startswith("laptop/") for n in names)
    assert not any(n.endswith(("model.pt", "checkpoint.pt")) for n in names)
    run = "backends/runs/digits/mnist_cnn/relu/fp32/torch-cpu/seed0"
    for name in ("metrics.json", "history.csv", "eval/digits_confusion.csv", "logs/train.log"):
        assert len(manifest["files"][f"{run}/{name}"]) == 64
    assert {"config.json", "fingerprint.json"} <= set(manifest["files"])
    results = tmp_path / "merged"
    done = import_bundle(bundle, results, local_host="desk")
    assert done["host"] == "laptop" and len(done["new"]) == 2
    imported = results / "hosts" / "laptop" / run
    original = bundle.parent.parent / run
    assert (imported / "metrics.json").read_bytes() == (original / "metrics.json").read_bytes()
    assert json.loads((results / "hosts/laptop/fingerprint.json").read_text())["host_id"]
    assert not list(results.glob(".import-*"))


def test_model_files_travel_only_when_asked(tmp_path):
    results = machine(tmp_path)
    target = tmp_path / "b.tar.gz"
    write_bundle(results, "laptop", CONFIG, target, models=True)
    with tarfile.open(target) as tar:
        assert sum(n.endswith("model.pt") for n in tar.getnames()) == 2


def test_an_identical_duplicate_is_accepted(bundle, tmp_path):
    results = tmp_path / "merged"
    import_bundle(bundle, results)
    before = snapshot(results)
    done = import_bundle(bundle, results)
    assert done["new"] == [] and len(done["identical"]) == 2
    assert snapshot(results) == before


def _refused(bundle: Path, results: Path, match: str) -> None:
    results.mkdir(parents=True, exist_ok=True)
    before = snapshot(results)
    with pytest.raises(BundleError, match=match) as error:
        import_bundle(bundle, results)
    assert str(bundle) in str(error.value)
    assert snapshot(results) == before, "a refused import wrote files"
    assert not list(results.glob(".import-*"))


def test_a_tampered_byte_is_refused(bundle, tmp_path):
    def flip(info, data):
        if info.name.endswith("seed1/metrics.json"):
            data = data.replace(b"0.9", b"0.8", 1)
        return info, data

    tampered = rewrite(bundle, tmp_path / "tampered.tar.gz", flip)
    _refused(tampered, tmp_path / "merged", r"seed1/metrics.json does not match its sha256")


def test_a_byte_changed_in_the_archive_itself_is_refused(bundle, tmp_path):
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(bytes(data))
    _refused(damaged, tmp_path / "merged", "damaged")


def test_a_truncated_bundle_is_refused(bundle, tmp_path):
    cut = tmp_path / "cut.tar.gz"
    data = bundle.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    _refused(cut, tmp_path / "merged", "truncated, damaged or not a bundle")


def test_a_member_escaping_its_folder_is_refused(bundle, tmp_path):
    def escape(info, data):
        if info.name.endswith("seed0/history.csv"):
            info.name = "laptop/../../../evil.csv"
        return info, data

    _refused(rewrite(bundle, tmp_path / "escape.tar.gz", escape), tmp_path / "m", "escapes")
    assert not (tmp_path / "evil.csv").exists()


def test_a_link_member_is_refused(bundle, tmp_path):
    def link(info, data):
        if info.name.endswith("seed0/history.csv"):
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        return info, data

    _refused(rewrite(bundle, tmp_path / "link.tar.gz", link), tmp_path / "m", "is a link")


def test_a_run_that_exists_with_other_content_is_refused_naming_both(bundle, tmp_path):
    results = tmp_path / "merged"
    import_bundle(bundle, results)
    rerun = machine(tmp_path / "again", test_acc=0.5)
    write_run(
        rerun, Run("backends", "digits", "mlp", "relu", "fp32", "torch-cpu", 0), host="laptop"
    )
    other = tmp_path / "again.tar.gz"
    write_bundle(rerun, "laptop", CONFIG, other)
    _refused(other, results, "already exists as .*hosts/laptop/backends/runs/.*seed0")
    assert not (results / "hosts/laptop/backends/runs/digits/mlp").exists()


def test_own_bundle_and_a_run_of_another_host_are_refused(bundle, tmp_path):
    with pytest.raises(BundleError, match="this machine's own bundle"):
        import_bundle(bundle, tmp_path / "m", local_host="laptop")
    results = machine(tmp_path / "desk", host="gpubox")
    with pytest.raises(BundleError, match="made on host 'gpubox'"):
        write_bundle(results, "laptop", CONFIG, tmp_path / "x.tar.gz")


def test_the_import_command_refuses_in_one_line_without_a_traceback(bundle, tmp_path):
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(bundle.read_bytes()[:100])
    config = tmp_path / "config.yaml"
    study = {"datasets": ["digits"], "models": ["mnist_cnn"], "backends": ["torch-cpu"]}
    config.write_text(yaml.safe_dump({"results_dir": str(tmp_path / "r"), "studies": {"s": study}}))
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "import_bundle.py"), "--config", config, cut],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"import refused: {cut} is truncated")
    assert not (tmp_path / "r" / "hosts").exists()


def test_the_config_refuses_a_host_that_is_a_path_and_reserved_study_names():
    study = {"datasets": ["digits"], "models": ["mnist_cnn"], "backends": ["torch-cpu"]}
    with pytest.raises(ConfigError, match="host: '../x'"):
        check_config({"host": "../x", "studies": {"s": study}})
    with pytest.raises(ConfigError, match="studies.hosts: the name is taken by results/hosts/"):
        check_config({"studies": {"hosts": study}})
    assert check_config({"studies": {"s": study}})["host"] is None


def test_folder_members_are_accepted_and_files_outside_runs_refused(bundle, tmp_path):
    with tarfile.open(bundle) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar]
    manifest = json.loads(members[0][1])
    stray = b"not a run"
    manifest["files"]["backends/tables/runs.csv"] = hashlib.sha256(stray).hexdigest()
    folder = tarfile.TarInfo("laptop/backends")
    folder.type = tarfile.DIRTYPE
    for name, extra in (("folders", []), ("stray", [("laptop/backends/tables/runs.csv", stray)])):
        target = tmp_path / f"{name}.tar.gz"
        with tarfile.open(target, "w:gz") as out:
            out.addfile(folder)
            for member, data in members:
                if extra and member.name.endswith("manifest.json"):
                    data = json.dumps(manifest).encode()
                    member.size = len(data)
                out.addfile(member, io.BytesIO(data))
            for path, data in extra:
                info = tarfile.TarInfo(path)
                info.size = len(data)
                out.addfile(info, io.BytesIO(data))
        if not extra:
            assert len(import_bundle(target, tmp_path / "ok")["new"]) == 2
    _refused(target, tmp_path / "m", "backends/tables/runs.csv is not a file of a run")
