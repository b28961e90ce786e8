"""Where imported machines' runs live: `{results}/hosts/{host}/{study}/runs/...`, the same run
layout as this machine's own runs (`{results}/{study}/runs/...`) below a host folder."""

from __future__ import annotations

from pathlib import Path, PurePath

from tradeoffs.identity import runs_glob

HOSTS_DIR = "hosts"


def imported_hosts(results: str | Path) -> list[str]:
    """The hosts whose bundles were imported into `results`."""
    folder = Path(results) / HOSTS_DIR
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def imported_files(results: str | Path, study: str, pattern: str) -> list[str]:
    """Every imported host's run files of `study` matching `pattern` (a glob below a run
    folder), in a stable order."""
    paths = []
    for host in imported_hosts(results):
        runs = Path(results) / HOSTS_DIR / host
        paths += sorted(str(p) for p in runs.glob(f"{runs_glob(study)}/{pattern}"))
    return paths


def imported_metrics(results: str | Path, study: str) -> list[str]:
    """Every imported host's metrics.json files of `study`."""
    return imported_files(results, study, "metrics.json")


def imported_bench(results: str | Path, study: str) -> list[str]:
    """Every imported host's bench/{runtime}.json files of `study`."""
    return imported_files(results, study, "bench/*.json")


def host_of_path(path: str | Path) -> str | None:
    """The host folder a run path lies in (`.../hosts/{host}/{study}/runs/...`), else None."""
    parts = PurePath(path).parts
    for i in range(len(parts) - 3):
        if parts[i] == HOSTS_DIR and parts[i + 3] == "runs":
            return parts[i + 1]
    return None
