"""Check a workflow config before any job runs, and expand its studies into runs.

Every mistake becomes one `ConfigError` whose message names the key, the bad value and the valid
choices; the Snakefile prints it and exits without a traceback.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tradeoffs import registry

RESERVED_STUDY_NAMES = ("summary",)  # results/summary/ holds the cross-study tables


class ConfigError(ValueError):
    """A mistake in the workflow config, worded for the user who made it."""


def _key_path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _describe(error: jsonschema.ValidationError) -> str:
    where = _key_path(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        prefix = f"{where}." if error.absolute_path else ""
        keys = ", ".join(f"{prefix}{key}" for key in extra)
        hint = f"valid keys: {', '.join(allowed)}" if allowed else "remove it"
        return f"unknown key {keys}; {hint}"
    if error.validator == "enum":
        choices = ", ".join(map(str, error.validator_value))
        return f"{where}: {error.instance!r} is not valid; choose from: {choices}"
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{where}: expected {expected}, got {error.instance!r}"
    if error.validator == "required":
        return f"{where}: {error.message}"
    return f"{where}: {error.instance!r}: {error.message}"


def _schema_errors(config: Mapping, schema: Mapping) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    return [_describe(e) for e in errors]


def _fill_defaults(instance: Any, schema: Mapping, root: Mapping) -> Any:
    """Apply the schema's `default`s to objects, recursively (the config stays as given)."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    if not isinstance(instance, dict):
        return instance
    for key, sub in schema.get("properties", {}).items():
        if key not in instance and "default" in sub:
            instance[key] = copy.deepcopy(sub["default"])
        if key in instance:
            instance[key] = _fill_defaults(instance[key], sub, root)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key in set(instance) - set(schema.get("properties", {})):
            instance[key] = _fill_defaults(instance[key], extra, root)
    return instance


def load_schema(path: str | Path) -> dict:
    return yaml.safe_load(Path(path).read_text())


def _dataset_errors(config: Mapping, basedir: Path) -> list[str]:
    errors = []
    for name, spec in config["datasets"].items():
        if registry.parse_corrupted(name):
            errors.append(
                f"datasets.{name}: the name is taken by a corrupted test set "
                "({dataset}-c-{corruption}-{severity}); rename the dataset"
            )
        builtin = registry.BUILTIN_DATASETS.get(name)
        fmt = spec.get("format", builtin)
        if fmt is None:
            formats = ", ".join(registry.DATASET_FORMATS)
            errors.append(f"datasets.{name}: a new dataset needs a format; choose from: {formats}")
        elif builtin and fmt != builtin:
            errors.append(
                f"datasets.{name}.format: {fmt!r} clashes with the built-in {name!r} "
                f"({builtin}); give your dataset another name"
            )
        if fmt == "imagefolder":
            if "path" not in spec:
                errors.append(f"datasets.{name}: an imagefolder dataset needs a path")
                continue
            root = (basedir / spec["path"]).expanduser()
            missing = [s for s in ("train", "test") if not (root / s).is_dir()]
            if not root.is_dir():
                errors.append(
                    f"datasets.{name}.path: {spec['path']!r} does not exist; point it at a folder "
                    "holding train/<class>/* and test/<class>/*"
                )
            elif missing:
                errors.append(
                    f"datasets.{name}.path: {spec['path']!r} has no {' or '.join(missing)}/ "
                    "folder; expected train/<class>/* and test/<class>/*"
                )
    return errors


def _study_errors(config: Mapping) -> list[str]:
    errors = []
    known_data = sorted(set(registry.BUILTIN_DATASETS) | set(config["datasets"]))
    for study, spec in config["studies"].items():
        if study in RESERVED_STUDY_NAMES:
            errors.append(
                f"studies.{study}: the name is taken by results/{study}/; rename the study"
            )
        for key in ("datasets", "eval_on"):
            for i, name in enumerate(spec[key]):
                if name not in known_data:
                    errors.append(
                        f"studies.{study}.{key}[{i}]: {name!r} is not a dataset; choose from: "
                        f"{', '.join(known_data)}, or define it under datasets:"
                    )
        for i, model in enumerate(spec["models"]):
            if model not in registry.MODELS:
                errors.append(
                    f"studies.{study}.models[{i}]: {model!r} is not a model; choose from: "
                    f"{', '.join(sorted(registry.MODELS))}"
                )
        errors += _corrupted_errors(study, spec)
        softmax = spec["quantization"]["softmax"]
        if softmax not in registry.PRECISIONS:
            errors.append(
                f"studies.{study}.quantization.softmax: {softmax!r} is not a precision; "
                f"choose from: {', '.join(registry.PRECISIONS)}"
            )
        if errors:
            continue
        grid = itertools.product(
            spec["models"], spec["activations"], spec["precisions"], spec["backends"]
        )
        for model, act, precision, backend in grid:
            why = registry.unsupported(model, act, precision, backend)
            if why:
                errors.append(
                    f"studies.{study}: {why}; remove it from the study or split the study"
                )
    return errors


def _corrupted_errors(study: str, spec: Mapping) -> list[str]:
    """The models and the reference run of `eval_on_corrupted` must be in the study's grid."""
    option = spec.get("eval_on_corrupted")
    if option is None:
        return []
    where = f"studies.{study}.eval_on_corrupted"
    errors = []
    models = option["models"] if option["models"] is not None else spec["models"]
    for i, model in enumerate(option["models"] or []):
        if model not in spec["models"]:
            errors.append(
                f"{where}.models[{i}]: {model!r} is not a model of the study; choose from: "
                f"{', '.join(spec['models'])}"
            )
    reference = option["reference"]
    if reference["model"] is not None and reference["model"] not in models:
        errors.append(
            f"{where}.reference.model: {reference['model']!r} is not evaluated on corrupted sets; "
            f"choose from: {', '.join(models)}"
        )
    if reference["precision"] not in spec["precisions"]:
        errors.append(
            f"{where}.reference.precision: {reference['precision']!r} is not a precision of the "
            f"study; choose from: {', '.join(spec['precisions'])}"
        )
    return errors


def check_config(config: Mapping, schema_path: str | Path, basedir: str | Path = ".") -> dict:
    """Validate `config` and return a copy with every default filled in.

    Raises ConfigError listing every problem found.
    """
    schema = load_schema(schema_path)
    errors = _schema_errors(config, schema)
    if errors:
        raise ConfigError("\n".join(errors))
    checked = _fill_defaults(copy.deepcopy(dict(config)), schema, schema)
    errors = _dataset_errors(checked, Path(basedir)) + _study_errors(checked)
    if errors:
        raise ConfigError("\n".join(dict.fromkeys(errors)))
    return checked


@dataclass(frozen=True)
class Run:
    """One cell of a study's grid: what a run folder is named after."""

    study: str
    dataset: str
    model: str
    act: str
    precision: str
    backend: str
    seed: int

    def path(self, results_dir: str = "results") -> str:
        return (
            f"{results_dir}/{self.study}/runs/{self.dataset}/{self.model}/{self.act}/"
            f"{self.precision}/{self.backend}/seed{self.seed}"
        )


def study_runs(config: Mapping, study: str) -> list[Run]:
    spec = config["studies"][study]
    grid = itertools.product(
        spec["datasets"],
        spec["models"],
        spec["activations"],
        spec["precisions"],
        spec["backends"],
        spec["seeds"],
    )
    return [Run(study, *cell) for cell in grid]


def all_runs(config: Mapping) -> list[Run]:
    return [run for study in config["studies"] for run in study_runs(config, study)]


def dataset_spec(config: Mapping, name: str) -> dict:
    """The full spec of a dataset name: its format and options (built-in defaults included)."""
    spec = dict(config.get("datasets", {}).get(name, {}))
    spec.setdefault("format", registry.BUILTIN_DATASETS.get(name))
    return spec
