"""Result bundles: one machine's run records packed with a manifest of sha256 sums, the config
and the machine's fingerprint, and imported into another results directory under
`hosts/{host}/`.

Import is all or nothing: the archive is read whole into a temporary folder inside the results
directory, every member checked (regular files below the bundle's host folder, listed in the
manifest with the sum it has), every run compared with what is already there (identical:
accepted; different: refused, naming both), and only then are files renamed into place.
"""

from __future__ import annotations

import gzip
import hashlib
import io as bytes_io
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from tradeoffs import fingerprint, io
from tradeoffs.hosts import HOSTS_DIR
from tradeoffs.identity import run_folder_of

MANIFEST = "manifest.json"
CONFIG = "config.json"
FINGERPRINT = "fingerprint.json"
MODEL_FILES = ("model.pt", "model.npz", "model.keras")
# Left out of every bundle: resume state that a finished run no longer has, temporary files.
SKIPPED_PARTS = ("checkpoint.pt", "checkpoint.npz", "keras_checkpoint")
FORMAT = 1


class BundleError(ValueError):
    """A bundle that cannot be packed or imported; the message names the file and the fix."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_files(results: Path, studies: Iterable[str], models: bool) -> list[Path]:
    """Every file of the studies' local runs (records, histories, eval, bench, logs, job
    benchmarks; model files when `models`), relative to `results`."""
    files = []
    for study in studies:
        runs = results / study / "runs"
        for path in sorted(runs.rglob("*")) if runs.is_dir() else []:
            rel = path.relative_to(results)
            if path.is_symlink() or not path.is_file():
                continue
            if any(part in SKIPPED_PARTS or part.startswith(".") for part in rel.parts):
                continue
            if path.name in MODEL_FILES and not models:
                continue
            files.append(rel)
    return files


def _check_recorded_host(results: Path, files: list[Path], host: str) -> None:
    for rel in files:
        if rel.name != "metrics.json":
            continue
        recorded = io.read_json(results / rel).get("host")
        if recorded not in (None, host):
            raise BundleError(
                f"{results / rel} was made on host {recorded!r}, not {host!r}: bundle it with "
                f"config `host: {recorded}`, or rerun it here"
            )


def write_bundle(
    results: Path,
    host: str,
    config: Mapping[str, Any],
    target: Path,
    *,
    models: bool = False,
) -> dict[str, Any]:
    """Pack `results`' local runs of `config`'s studies into `target` (a .tar.gz whose members
    all lie under `{host}/`); returns the manifest."""
    fingerprint.check_host_name(host)
    files = run_files(results, config["studies"], models)
    if not files:
        raise BundleError(f"{results} holds no runs of the config's studies: run them first")
    _check_recorded_host(results, files, host)
    extras = {
        CONFIG: json.dumps(config, indent=2, sort_keys=True, default=str).encode(),
        FINGERPRINT: json.dumps(fingerprint.fingerprint(), indent=2, sort_keys=True).encode(),
    }
    sums = {name: hashlib.sha256(data).hexdigest() for name, data in extras.items()}
    sums.update({rel.as_posix(): sha256(results / rel) for rel in files})
    manifest = {"format": FORMAT, "host": host, "files": sums}
    extras[MANIFEST] = json.dumps(manifest, indent=2, sort_keys=True).encode()
    with (
        io.atomic_path(target) as tmp,
        tmp.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped,  # same runs, same bytes
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name in (MANIFEST, CONFIG, FINGERPRINT):
            _add_bytes(tar, f"{host}/{name}", extras[name])
        for rel in files:
            _add_bytes(tar, f"{host}/{rel.as_posix()}", (results / rel).read_bytes())
    return manifest


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    tar.addfile(info, bytes_io.BytesIO(data))


def _member_path(member: tarfile.TarInfo, bundle: Path) -> PurePosixPath:
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts or "\\" in member.name:
        raise BundleError(
            f"{bundle}: member {member.name!r} escapes the bundle's host folder; "
            "refusing the whole bundle"
        )
    if not (member.isfile() or member.isdir()):
        kind = "link" if member.issym() or member.islnk() else "non-file member"
        raise BundleError(f"{bundle}: {member.name!r} is a {kind}; a bundle holds plain files")
    return name


def _extract(bundle: Path, into: Path) -> tuple[str, dict[str, Any]]:
    """Every member into `into` (no links, nothing outside its host folder); the host and the
    manifest."""
    hosts: set[str] = set()
    try:
        with tarfile.open(bundle, mode="r:gz") as tar:
            for member in tar:
                name = _member_path(member, bundle)
                hosts.add(name.parts[0])
                if member.isdir():  # folders come from their files
                    continue
                target = into.joinpath(*name.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None  # a regular file
                with source, target.open("wb") as out:
                    shutil.copyfileobj(source, out)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise BundleError(
            f"{bundle} is truncated, damaged or not a bundle ({error}); "
            "copy it again from its machine"
        ) from None
    if len(hosts) != 1:
        raise BundleError(f"{bundle}: members lie under {sorted(hosts)}, not one host folder")
    host = hosts.pop()
    try:
        manifest = io.read_json(into / host / MANIFEST)
    except (OSError, ValueError):
        raise BundleError(f"{bundle} has no readable {host}/{MANIFEST}") from None
    if manifest.get("host") != host:
        raise BundleError(f"{bundle}: its manifest names host {manifest.get('host')!r}, not {host}")
    fingerprint.check_host_name(host)
    return host, manifest


def _verify(bundle: Path, root: Path, manifest: Mapping[str, Any]) -> None:
    sums = manifest.get("files", {})
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    present.discard(MANIFEST)
    for name in sorted(present - set(sums)):
        raise BundleError(f"{bundle}: {name} is not in its manifest; the bundle was altered")
    for name, expected in sorted(sums.items()):
        path = root / name
        if name not in present:
            raise BundleError(f"{bundle}: {name} is listed in its manifest but missing")
        if sha256(path) != expected:
            raise BundleError(
                f"{bundle}: {name} does not match its sha256 in the manifest (altered or "
                "damaged); nothing was imported"
            )


def _run_folders(names: Iterable[str]) -> dict[str, list[str]]:
    """Files grouped by their run folder (`identity.run_folder_of`: the run layout below the
    bundle's root)."""
    runs: dict[str, list[str]] = {}
    for name in names:
        folder = run_folder_of(name)
        if folder is not None:
            runs.setdefault(folder, []).append(name)
    return runs


def import_bundle(bundle: Path, results: Path, local_host: str | None = None) -> dict[str, Any]:
    """Import `bundle` into `results/hosts/{host}/`; nothing is written unless all of it is
    sound. Returns {host, runs, new, identical}."""
    if not bundle.is_file():
        raise BundleError(f"no bundle at {bundle}")
    results.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=results))
    try:
        host, manifest = _extract(bundle, staging)
        if host == local_host:
            raise BundleError(
                f"{bundle} is this machine's own bundle (host {host}); its runs are already "
                f"in {results}"
            )
        root = staging / host
        _verify(bundle, root, manifest)
        destination = results / HOSTS_DIR / host
        runs = _run_folders(n for n in manifest["files"] if n not in (CONFIG, FINGERPRINT))
        stray = (
            set(manifest["files"]) - {CONFIG, FINGERPRINT} - {n for f in runs.values() for n in f}
        )
        if stray:
            raise BundleError(
                f"{bundle}: {sorted(stray)[0]} is not a file of a run "
                "({study}/runs/.../seed{n}/); a bundle holds runs only"
            )
        new, identical = [], []
        for run, names in sorted(runs.items()):
            existing = destination / run
            if not existing.exists():
                new.append(run)
                continue
            differs = [n for n in names if not _same(root / n, destination / n)]
            if differs:
                raise BundleError(
                    f"run {run} of {bundle} already exists as {existing} with other content "
                    f"({differs[0]} differs); remove one of them and import again"
                )
            identical.append(run)
        for run in new:
            for name in runs[run]:
                target = destination / name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(root / name, target)
        for name in (CONFIG, FINGERPRINT):
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(root / name, target)
        return {"host": host, "runs": len(runs), "new": new, "identical": identical}
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _same(a: Path, b: Path) -> bool:
    return b.is_file() and sha256(a) == sha256(b)
