"""Downloads against a loopback server: mirrors, retries, resume, checksums, offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from data_fixtures import FileServer, snakemake_target

from tradeoffs.data.download import DownloadError, download
from tradeoffs.data.sources import SOURCES, remote_file

REPO = Path(__file__).resolve().parents[1]
DATA = bytes(range(256)) * 4096  # 1 MiB: several read chunks
NAME = "archive.tar.gz"


@pytest.fixture
def server():
    with FileServer({NAME: DATA}) as running:
        yield running


def fetch(remote, target, lines=None, **kwargs):
    log = lines.append if lines is not None else lambda _: None
    return download(remote, target, backoff_s=0, log=log, **kwargs)


def test_download_verifies_and_renames(server, tmp_path):
    target = tmp_path / "downloads" / NAME
    assert fetch(server.remote(NAME), target) == target
    assert target.read_bytes() == DATA
    assert sorted(p.name for p in target.parent.iterdir()) == [NAME]


def test_checksum_mismatch_leaves_nothing_and_names_url(server, tmp_path):
    server.faults[f"/{NAME}"] = ["wrong"]
    remote = server.remote(NAME)
    target = tmp_path / NAME
    with pytest.raises(DownloadError) as error:
        fetch(remote, target)
    message = str(error.value)
    assert remote.urls[0] in message and "md5 mismatch" in message and remote.md5 in message
    assert list(tmp_path.iterdir()) == []  # neither the target nor a .part


def test_cut_transfer_is_resumed_with_range(server, tmp_path):
    server.faults[f"/{NAME}"] = ["cut"]
    target = tmp_path / NAME
    lines = []
    fetch(server.remote(NAME), target, lines)
    assert target.read_bytes() == DATA
    assert server.requests == [(f"/{NAME}", None), (f"/{NAME}", f"bytes={len(DATA) // 2}-")]
    assert any("resuming at byte" in line for line in lines)
    assert any("%" in line for line in lines)  # progress lines


def test_partial_file_from_an_earlier_run_is_resumed(server, tmp_path):
    target = tmp_path / NAME
    (tmp_path / f"{NAME}.part").write_bytes(DATA[:1000])
    fetch(server.remote(NAME), target)
    assert target.read_bytes() == DATA
    assert server.requests == [(f"/{NAME}", "bytes=1000-")]


def test_server_errors_fall_through_to_the_next_mirror(server, tmp_path):
    server.faults["/broken/" + NAME] = ["500"] * 3
    remote = server.remote(NAME, "broken", "good")
    target = tmp_path / NAME
    lines = []
    fetch(remote, target, lines, attempts=3)
    assert target.read_bytes() == DATA
    assert [path for path, _ in server.requests] == [f"/broken/{NAME}"] * 3 + [f"/good/{NAME}"]
    assert sum("retrying" in line for line in lines) == 2


def test_every_mirror_failing_names_each_url_and_status(server, tmp_path):
    server.faults["/a/" + NAME] = ["500"] * 2
    remote = server.remote(NAME, "a", "missing")
    server.faults["/missing/" + NAME] = ["404"]
    with pytest.raises(DownloadError) as error:
        fetch(remote, tmp_path / NAME, attempts=2)
    message = str(error.value)
    assert f"{remote.urls[0]}: HTTP 500" in message and f"{remote.urls[1]}: HTTP 404" in message
    assert not (tmp_path / NAME).exists()


def test_offline_missing_names_file_and_folder(tmp_path):
    remote = SOURCES["cifar10"][0]
    target = tmp_path / "downloads" / "cifar10" / remote.name
    with pytest.raises(DownloadError) as error:
        download(remote, target, offline=True)
    assert remote.name in str(error.value)
    assert str(target.parent.resolve()) in str(error.value)


def test_offline_with_placed_file_never_touches_the_network(server, tmp_path):
    target = tmp_path / NAME
    target.write_bytes(DATA)
    fetch(server.remote(NAME), target, offline=True)
    assert server.requests == []


def test_offline_with_a_wrong_placed_file_fails(server, tmp_path):
    target = tmp_path / NAME
    target.write_bytes(b"not it")
    with pytest.raises(DownloadError, match="published md5"):
        fetch(server.remote(NAME), target, offline=True)


def test_config_mirrors_come_first():
    remote = remote_file("cinic10", "CINIC-10.tar.gz", ["http://mirror.example/data/"])
    assert remote.urls[0] == "http://mirror.example/data/CINIC-10.tar.gz"
    assert remote.urls[1:] == SOURCES["cinic10"][0].urls


def run_cli(filename: str, output: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts/download.py"), "--source", "mnist"]
        + ["--filename", filename, "--output", str(output), *flags],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        timeout=60,
    )


def test_cli_offline_message_without_traceback(tmp_path):
    output = tmp_path / "downloads" / "mnist" / "train-images-idx3-ubyte.gz"
    result = run_cli(output.name, output, "--offline")
    assert result.returncode != 0
    assert output.name in result.stderr and str(output.parent.resolve()) in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_takes_the_rule_arguments_and_names_an_unknown_archive(tmp_path):
    result = run_cli("nope.gz", tmp_path / "nope.gz", "--online", "--mirrors", '["http://x/"]')
    assert result.returncode == 1  # not argparse's 2: --online and --mirrors parse
    assert "'nope.gz' is not an archive of 'mnist'" in result.stderr
    assert "Traceback" not in result.stderr


def test_snakemake_offline_names_the_missing_archive(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        f"data_dir: {tmp_path / 'res'}\noffline: true\n"
        "studies:\n  s: {datasets: [cifar10], models: [cnn], backends: [torch-cpu]}\n"
    )
    target = tmp_path / "res" / "prepared" / "cifar10" / "meta.json"
    result = snakemake_target(config, target)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    folder = tmp_path / "res" / "downloads" / "cifar10"
    assert "cifar-10-python.tar.gz is missing. Place" in output and f"{folder}/" in output
    assert not folder.exists() or list(folder.iterdir()) == []
