"""Download one archive: mirrors in order, retries with back-off, resume, md5, atomic rename.

The bytes go to `{target}.part`; only a transfer whose md5 matches the published one is renamed
onto the target, so the target is complete or absent. A `.part` left by a failure is resumed
with an HTTP Range request by the next attempt (or the next run).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO

from tradeoffs.data import DataError, Log
from tradeoffs.data.sources import RemoteFile

CHUNK = 1 << 20
PROGRESS_EVERY_PCT = 5
PROGRESS_EVERY_S = 10.0


class DownloadError(DataError):
    """No mirror delivered the file with the published checksum."""


class _RetryableError(Exception):
    """A failure worth another attempt at the same URL (server error, transfer cut short)."""


def md5_of(path: str | Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "md5").hexdigest()


def _log(message: str) -> None:
    print(message, flush=True)


def offline_message(remote: RemoteFile, target: Path) -> str:
    folder = target.parent.resolve()
    return (
        f"offline: true, and {target.name} is missing. Place the official archive "
        f"{remote.name} (md5 {remote.md5}) in {folder}/ (it is published at "
        f"{' or '.join(remote.urls)}), or set offline: false."
    )


def download(
    remote: RemoteFile,
    target: str | Path,
    *,
    offline: bool = False,
    attempts: int = 3,
    backoff_s: float = 2.0,
    timeout_s: float = 60.0,
    log: Log = _log,
) -> Path:
    """Make `target` hold `remote` with its published md5, downloading it unless `offline`.

    Each URL gets `attempts` tries, waiting `backoff_s`, then twice that, ... in between.
    Raises DownloadError naming every URL tried and why it failed.
    """
    target = Path(target)
    if target.exists():
        actual = md5_of(target)
        if actual == remote.md5:
            log(f"{target} is present with the published md5 {remote.md5}")
            return target
        if offline:
            raise DownloadError(
                f"{target} has md5 {actual}, but the published md5 of {remote.name} is "
                f"{remote.md5}; replace it with the official archive"
            )
        log(f"{target} has md5 {actual}, expected {remote.md5}; downloading it again")
    elif offline:
        raise DownloadError(offline_message(remote, target))

    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    failures = []
    for url in remote.urls:
        failure = _from_url(url, remote, part, attempts, backoff_s, timeout_s, log)
        if failure is None:
            os.replace(part, target)
            log(f"saved {target} (md5 {remote.md5})")
            return target
        failures.append(f"  {url}: {failure}")
    raise DownloadError(f"could not download {remote.name}:\n" + "\n".join(failures))


def _from_url(
    url: str,
    remote: RemoteFile,
    part: Path,
    attempts: int,
    backoff_s: float,
    timeout_s: float,
    log: Log,
) -> str | None:
    """Fetch `url` into `part` and check its md5: None on success, else why it failed."""
    reason = ""
    for attempt in range(1, attempts + 1):
        try:
            _fetch(url, part, timeout_s, log)
        except _RetryableError as error:
            reason = f"{error} (after {attempt} attempt{'s' * (attempt > 1)})"
            if attempt < attempts:
                wait = backoff_s * 2 ** (attempt - 1)
                log(f"{url}: {error}; retrying in {wait:g} s")
                time.sleep(wait)
            continue
        except urllib.error.HTTPError as error:  # a client error: this mirror will not serve it
            return f"HTTP {error.code} {error.reason}"
        actual = md5_of(part)
        if actual == remote.md5:
            return None
        part.unlink()
        log(f"{url}: md5 {actual} does not match the published {remote.md5}; discarded")
        return f"md5 mismatch: got {actual}, expected {remote.md5}"
    return reason


def _fetch(url: str, part: Path, timeout_s: float, log: Log) -> None:
    """Append the rest of `url` to `part` (a Range request when `part` has bytes already)."""
    start = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "tradeoffs-benchmark"}
    if start:
        headers["Range"] = f"bytes={start}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as error:
        if error.code == 416 and start:  # the partial file does not fit this server's copy
            part.unlink()
            why = f"HTTP 416 when resuming at byte {start}; starting over"
            raise _RetryableError(why) from error
        if error.code >= 500 or error.code in (408, 429):
            raise _RetryableError(f"HTTP {error.code} {error.reason}") from error
        raise
    except (urllib.error.URLError, OSError) as error:
        why = f"{type(error).__name__}: {getattr(error, 'reason', error)}"
        raise _RetryableError(why) from error
    with response:
        resumed = start and response.status == 206
        if resumed and not response.headers.get("Content-Range", "").startswith(f"bytes {start}-"):
            part.unlink()
            raise _RetryableError(f"asked to resume at byte {start}, got another range")
        if start and not resumed:
            log(f"{url}: the server ignored the Range request; starting over")
            start = 0
        if resumed:
            log(f"{url}: resuming at byte {start}")
        length = response.headers.get("Content-Length")
        total = start + int(length) if length else None
        with open(part, "ab" if resumed else "wb") as out:
            _copy(response, out, start, total, url, log)
    size = part.stat().st_size
    if total is not None and size < total:
        raise _RetryableError(f"transfer cut short at {size} of {total} bytes")


def _copy(
    response: http.client.HTTPResponse,
    out: BinaryIO,
    done: int,
    total: int | None,
    url: str,
    log: Log,
) -> None:
    """Copy the response body, logging progress every few percent or seconds."""
    last_pct, last_time = -PROGRESS_EVERY_PCT, time.monotonic()
    while True:
        try:
            chunk = response.read(CHUNK)
        except (http.client.IncompleteRead, OSError) as error:
            if isinstance(error, http.client.IncompleteRead):
                out.write(error.partial)
            out.flush()
            return  # the caller compares the size with the expected total
        if not chunk:
            return
        out.write(chunk)
        done += len(chunk)
        now = time.monotonic()
        pct = 100 * done // total if total else None
        if (pct is not None and pct >= last_pct + PROGRESS_EVERY_PCT) or (
            now - last_time >= PROGRESS_EVERY_S
        ):
            shown = f"{pct}% " if pct is not None else ""
            log(f"{url}: {shown}{done / 1e6:.1f} MB")
            last_pct = pct if pct is not None else last_pct
            last_time = now
