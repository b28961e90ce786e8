"""The records of a run that did not produce a model (its backend absent: `skipped`; broken in a
way the study should show: `failed`), and the status later stages pass on from train.json. Such
a run still leaves every file, with `status` and `reason`, so tables list it instead of
dropping it."""

from __future__ import annotations

from tradeoffs import io
from tradeoffs.records.history import write_history
from tradeoffs.records.provenance import provenance
from tradeoffs.records.validate import InvalidRecordError, read_json_record, stage_schema
from tradeoffs.runspec import RunSpec


def write_not_run(spec: RunSpec, status: str, reason: str, started: str) -> None:
    """Every train output for a run that did not produce a model: an empty model file, a header-
    only history and a train.json saying why."""
    assert status in ("skipped", "failed")
    io.write_text(spec.model_path, "")
    write_history(spec.run_dir / "history.csv", [])
    io.write_json(
        spec.run_dir / "train.json",
        {
            **spec.identity(),
            "status": status,
            "reason": reason,
            "provenance": provenance(spec, started),
        },
    )


def upstream_status(spec: RunSpec) -> tuple[str, str | None]:
    """The status and reason train.json recorded; later stages pass a non-ok one on (`invalid`
    for a train.json that breaks its schema, with why)."""
    try:
        record = read_json_record(spec.run_dir / "train.json", stage_schema("train"))
    except InvalidRecordError as error:
        return "invalid", f"{error}; rerun its train job (snakemake --forcerun train)"
    return record["status"], record.get("reason")
