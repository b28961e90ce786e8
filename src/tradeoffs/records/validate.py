"""Records read back are checked before a number in them is used.

A record on disk may be damaged, hand-edited, planted or written by an older version of the
pipeline. Every reader passes what it read through `problems`, which validates it against its
JSON schema (types, ranges, required keys, the layout version) and rejects non-finite numbers
anywhere (JSON has no NaN or infinity; Python's reader accepts them). A record with problems
makes its run `invalid`, with the problems as its reason, and none of its numbers are used.

Definitions live in the schemas only: `metrics.schema.json` defines every metric key once, and
the stage records (train.json, bench/{runtime}.json, eval/{d}.json) are checked against the
definitions of the keys they hold (`stage_schema`), so a new key needs only its definition in
the schema. history.csv rows are checked against `history.schema.json`.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from tradeoffs import schemas

INVALID = "invalid"
MAX_PROBLEMS = 3  # a reason names the first few; one is enough to distrust the record
# eval/{d}.json's keys are metrics.json's `test_*` keys of the run's own dataset.
EVAL_PREFIX = "test_"


class InvalidRecordError(ValueError):
    """A record that cannot be read or breaks its schema; the message names the file and why."""


def nonfinite(value: Any, where: str = "") -> Iterator[str]:
    """Where `value` holds NaN or an infinity (nested mappings and lists searched)."""
    if isinstance(value, float) and not math.isfinite(value):
        yield f"{where or 'value'} is {value}, not a finite number"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from nonfinite(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from nonfinite(item, f"{where}[{i}]")


def _where(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path)


_VALIDATORS: dict[int, tuple[Mapping[str, Any], jsonschema.Draft202012Validator]] = {}


def _validator(schema: Mapping[str, Any]) -> jsonschema.Draft202012Validator:
    """One validator per schema object (the schemas are cached): building one per record
    would double the time a study's records take to read."""
    kept = _VALIDATORS.get(id(schema))
    if kept is None or kept[0] is not schema:
        kept = _VALIDATORS[id(schema)] = (schema, jsonschema.Draft202012Validator(schema))
    return kept[1]


def problems(record: Any, schema: Mapping[str, Any]) -> list[str]:
    """What is wrong with `record` under `schema` (empty: nothing), most specific first."""
    found = list(nonfinite(record))
    validator = _validator(schema)
    for error in sorted(validator.iter_errors(record), key=jsonschema.exceptions.relevance):
        if isinstance(error.instance, float) and not math.isfinite(error.instance):
            continue  # already named above
        where = _where(error)
        found.append(f"{where}: {error.message}" if where else error.message)
    return list(dict.fromkeys(found))


@cache
def stage_schema(stage: str) -> dict[str, Any]:
    """The schema of a stage record (`train`, `bench`, `serving`, `eval`): metrics.json's
    definitions of the keys it holds (eval's `acc` is `test_acc`'s), without metrics.json's
    required keys; its status is required. A key the schema does not define is checked only
    for finite numbers: defining it in metrics.schema.json is all a new record needs."""
    metrics = schemas.metrics_schema()
    properties = dict(metrics["properties"])
    if stage == "eval":
        properties |= {
            key[len(EVAL_PREFIX) :]: value
            for key, value in metrics["properties"].items()
            if key.startswith(EVAL_PREFIX)
        }
        properties["n"] = {"type": ["integer", "null"], "minimum": 0}
    return {
        "type": "object",
        "required": ["status"],
        "properties": properties,
        "$defs": metrics["$defs"],
    }


def read_json_record(path: str | Path, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON record at `path`, or InvalidRecordError naming the file and its problems."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InvalidRecordError(f"{path.name} is not readable JSON ({error})") from None
    found = problems(record, schema)
    if found:
        raise InvalidRecordError(describe(path, found))
    return record


def _cell(text: str) -> Any:
    if text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        return text  # the schema names it
    return int(number) if number.is_integer() and "." not in text and "e" not in text else number


def read_history(path: str | Path) -> list[dict[str, Any]]:
    """history.csv's rows as numbers (empty cells None), each valid against
    history.schema.json, or InvalidRecordError."""
    path = Path(path)
    try:
        with path.open(newline="") as handle:
            rows = [
                {key: _cell(value or "") for key, value in row.items()}
                for row in csv.DictReader(handle)
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InvalidRecordError(f"{path.name} is not readable ({error})") from None
    schema = schemas.history_schema()
    for number, row in enumerate(rows, start=1):
        found = problems(row, schema)
        if found:
            raise InvalidRecordError(describe(path, found, f"row {number}"))
    return rows


def describe(path: Path, found: list[str], where: str = "") -> str:
    shown = "; ".join(found[:MAX_PROBLEMS])
    more = f" (and {len(found) - MAX_PROBLEMS} more)" if len(found) > MAX_PROBLEMS else ""
    place = f"{path.name} {where}".strip()
    return f"{place}: {shown}{more}"
