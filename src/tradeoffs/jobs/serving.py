"""The serving job: serving/{runtime}.json of one run, the runtime bench/{runtime}.json
measured served under Poisson load (`tradeoffs.serving.measure`): the highest request rate whose
p99 meets the study's `serving.p99_ms`, and the multi-stream levels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tradeoffs import engines, io
from tradeoffs.data import DataError
from tradeoffs.fileformat import UnexpectedFormatError
from tradeoffs.jobs import JobError
from tradeoffs.jobs.benchmark import runtime_head
from tradeoffs.records.not_run import upstream_status
from tradeoffs.runspec import RunSpec
from tradeoffs.serving.measure import measure


def serving_record(spec: RunSpec, name: str) -> dict[str, Any]:
    """serving/{name}.json: the run's identity and runtime, then its measurements, or the
    status and reason of a run or runtime that was not measured (bench/{name}.json's)."""
    head = runtime_head(spec, name)
    status, reason = upstream_status(spec)
    if status == "ok":
        bench = io.read_json(spec.run_dir / "bench" / f"{name}.json")
        status, reason = bench["status"], bench.get("reason")
    if status != "ok":
        return {**head, "status": status, "reason": reason}
    return {**head, **measure(spec, name, engines.load(spec.framework).loaded(spec))}


def serve(spec: RunSpec, runtime: str, output: Path) -> None:
    """Write serving/{runtime}.json (`output`)."""
    try:
        record = serving_record(spec, runtime)
    except (DataError, UnexpectedFormatError) as error:
        raise JobError(f"serving failed: {error}") from None
    io.write_json(output, record)
    print({k: v for k, v in record.items() if k not in ("points", "multistream")})
