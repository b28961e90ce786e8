"""Check a workflow config before any job runs, and expand its studies into run identities.

Every mistake becomes one `ConfigError` whose message names the key, the bad value and the valid
choices; the Snakefile prints it and exits without a traceback.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tradeoffs import pretrained, registry, schemas, usermodels
from tradeoffs.classmap import ClassMapError, class_indices
from tradeoffs.configerror import ConfigError as ConfigError  # raised by the check
from tradeoffs.data import DataError
from tradeoffs.data.local import imagefolder_classes, synthetic_classes
from tradeoffs.identity import RunId, study_grid
from tradeoffs.records.validate import nonfinite
from tradeoffs.runtimes import RUNTIMES

# results/summary/ holds the cross-study tables, hosts/ imported machines, bundles/ their packs
RESERVED_STUDY_NAMES = ("summary", "hosts", "bundles")
# Names that become folders, file names and wildcards: no separators, spaces, shell syntax or
# leading dot (so never `.` or `..`).
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
NAME_HINT = "use letters, digits, '_', '.' and '-', starting with a letter or digit"
# Lists in a study whose entries must be distinct: a repeat would count one run twice.
UNIQUE_LISTS = ("datasets", "models", "activations", "precisions", "backends", "seeds", "eval_on")
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


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
    return [_describe(e) for e in errors if not any(nonfinite(e.instance))]  # named before


def _fill_defaults(instance: Any, schema: Mapping, root: Mapping) -> Any:
    """Apply the schema's `default`s to objects, recursively (the config stays as given)."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    # Overrides (train_by_model) stay sparse: a filled-in default would mask the study's value.
    if not isinstance(instance, dict) or schema.get("x-fill-defaults") is False:
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


def _coerce_numbers(instance: Any, schema: Mapping, root: Mapping) -> Any:
    """Read number strings such as `1e-3` (YAML 1.1 takes a number without a dot for a string)
    as numbers where the schema expects one; anything else is left for the schema to word."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if isinstance(instance, str) and _NUMBER.fullmatch(instance.strip()):
        value = float(instance)
        if "number" in types:
            return value
        if "integer" in types and value.is_integer():
            return int(value)
        return instance
    if not isinstance(instance, dict):
        return instance
    extra = schema.get("additionalProperties")
    for key in instance:
        sub = schema.get("properties", {}).get(key, extra if isinstance(extra, dict) else None)
        if sub is not None:
            instance[key] = _coerce_numbers(instance[key], sub, root)
    return instance


def load_schema(path: str | Path | None = None) -> dict:
    """The config schema at `path`, or the one shipped with the package."""
    return yaml.safe_load(Path(path).read_text()) if path else schemas.config_schema()


def study_with_defaults(study: Mapping) -> dict:
    """A copy of one study's config with the schema's defaults filled in (what check_config
    does to every study), for a study built outside a checked config."""
    schema = schemas.config_schema()
    return _fill_defaults(copy.deepcopy(dict(study)), schema["$defs"]["study"], schema)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key repeated in one mapping (PyYAML keeps the last)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise ConfigError(
                f"{key_node.start_mark.name}: line {line}: key {key!r} is repeated (first on "
                f"line {seen[key]}); the later one would silently replace it, keep one"
            )
        seen[key] = line
    return loader.construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def load_yaml(path: str | Path) -> Any:
    """A YAML (or JSON) file, refusing repeated keys; ConfigError for a file that is not YAML."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as f:
            return yaml.load(f, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from error


def check_config_files(paths: Iterable[str | Path]) -> None:
    """Re-read the config files Snakemake loaded, for mistakes its loader lets through
    (a repeated key)."""
    for path in paths:
        load_yaml(path)


def _name_error(where: str, name: Any) -> str | None:
    if isinstance(name, str) and NAME.fullmatch(name):
        return None
    return f"{where}: {name!r} is not a valid name; {NAME_HINT}"


def _path_errors(config: Mapping) -> list[str]:
    """data_dir and results_dir may hold spaces (every rule quotes them) but not what Snakemake
    reads as a wildcard, nor control characters."""
    errors = []
    for key in ("data_dir", "results_dir"):
        value = config[key]
        if not value.strip() or any(c in value for c in "{}") or not value.isprintable():
            errors.append(
                f"{key}: {value!r} is not a usable folder; give a path without braces or "
                "control characters"
            )
            continue
        problem = _folder_problem(Path(value).expanduser())
        if problem:
            errors.append(f"{key}: {value!r} {problem}")
    return errors


def _folder_problem(path: Path) -> str | None:
    """Why `path` cannot be the pipeline's own folder (None: it can)."""
    try:
        if path.resolve() == Path(path.anchor or "/").resolve():
            return "is the file system's root; give a folder of its own (e.g. results)"
        if path.exists() and not path.is_dir():
            return "exists and is not a folder; give a folder's path (or move the file)"
    except (OSError, RuntimeError) as error:  # too long, a symlink loop, unreadable
        return f"cannot be used as a folder ({error}); give another path"
    return None


def _name_errors(config: Mapping) -> list[str]:
    """Every name a user typed that becomes a folder or wildcard is an identifier."""
    errors = [_name_error(f"datasets.{name}", name) for name in config["datasets"]]
    errors += [_name_error(f"models.{name}", name) for name in config["models"]]
    errors += [_name_error(f"studies.{name}", name) for name in config["studies"]]
    for study, spec in config["studies"].items():
        for key in ("datasets", "eval_on", "models"):
            errors += [
                _name_error(f"studies.{study}.{key}[{i}]", name) for i, name in enumerate(spec[key])
            ]
    return [error for error in errors if error]


def _repeat_errors(config: Mapping) -> list[str]:
    """A value listed twice in a study would make one run count twice in its aggregate."""
    return [
        f"studies.{study}.{key}: {value!r} is listed {n} times; list it once"
        for study, spec in config["studies"].items()
        for key in UNIQUE_LISTS
        for value, n in Counter(spec[key]).items()
        if n > 1
    ]


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
            elif len(dataset_classes(config, name, basedir) or []) < 2:
                errors.append(
                    f"datasets.{name}.path: {spec['path']!r} needs at least two class folders "
                    "in train/ (train/<class>/*)"
                )
    return errors


def dataset_classes(config: Mapping, name: str, basedir: str | Path = ".") -> list[str] | None:
    """A dataset's class names in label order, as far as they are known before `prepare`
    (None for an imagefolder whose train/ folder cannot be read)."""
    spec = dataset_spec(config, name)
    if spec["format"] in registry.FORMAT_CLASSES:
        return list(registry.FORMAT_CLASSES[spec["format"]])
    if spec["format"] == "synthetic":
        return synthetic_classes({**schemas.format_defaults("synthetic"), **spec}["classes"])
    try:
        return imagefolder_classes(Path(basedir) / Path(spec["path"]).expanduser())
    except DataError:
        return None


def _eval_errors(config: Mapping, basedir: Path) -> list[str]:
    """Every eval_on dataset has the training datasets' classes, or a class_map onto them."""
    errors = []
    for study, spec in config["studies"].items():
        for name in spec["class_map"]:
            if name not in spec["eval_on"]:
                errors.append(
                    f"studies.{study}.class_map.{name}: {name!r} is not in eval_on; "
                    "map only the classes of a dataset the study evaluates on"
                )
        for trained, other in itertools.product(spec["datasets"], spec["eval_on"]):
            train_classes = dataset_classes(config, trained, basedir)
            other_classes = dataset_classes(config, other, basedir)
            if other == trained or train_classes is None or other_classes is None:
                continue
            try:
                class_indices(train_classes, other_classes, spec["class_map"].get(other))
            except ClassMapError as error:
                errors.append(
                    f"studies.{study}.eval_on: cannot evaluate runs trained on {trained!r} on "
                    f"{other!r}: {error}"
                )
    return errors


def _runtime_errors(study: str, spec: Mapping) -> list[str]:
    """A runtime none of the study's backends offers is a mistake (one some offer is not: a
    study may mix frameworks, and each run gets the runtimes its framework has)."""
    frameworks = sorted({registry.BACKENDS[b].framework for b in spec["backends"]})
    offered = list(dict.fromkeys(name for f in frameworks for name in RUNTIMES[f]))
    return [
        f"studies.{study}.runtimes[{i}]: {name!r} runs no model of this study's backends; "
        f"choose from: {', '.join(offered)}"
        for i, name in enumerate(spec["runtimes"])
        if name not in offered
    ]


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
            if usermodels.model_impls(model, _user_models(config, spec)) is None:
                known = sorted({*registry.MODELS, *config["models"]})
                errors.append(
                    f"studies.{study}.models[{i}]: {model!r} is not a model; choose from: "
                    f"{', '.join(known)}, torchvision:NAME, timm:NAME, or declare it under "
                    "models:"
                )
        for key in ("train_by_model", "model_options"):
            for model in spec[key]:
                if model not in spec["models"]:
                    errors.append(
                        f"studies.{study}.{key}.{model}: {model!r} is not one of the study's "
                        f"models ({', '.join(spec['models'])}); add it to models or remove it"
                    )
        if spec["model_options"] and spec["transfer"]["weights"] == "imagenet":
            errors.append(
                f"studies.{study}.model_options: pretrained (transfer.weights: imagenet) networks "
                "keep their published architecture; remove model_options or use weights: none"
            )
        errors += _corrupted_errors(study, spec)
        errors += _pretrained_grid_errors(study, spec)
        if not spec["models"]:
            errors.append(f"studies.{study}: no models; list some under models or pretrained")
        softmax = spec["quantization"]["softmax"]
        if softmax not in registry.PRECISIONS:
            errors.append(
                f"studies.{study}.quantization.softmax: {softmax!r} is not a precision; "
                f"choose from: {', '.join(registry.PRECISIONS)}"
            )
        recipes = {"train": spec["train"]}
        recipes.update({f"train_by_model.{m}": r for m, r in spec["train_by_model"].items()})
        for where, recipe in recipes.items():
            for key, value in recipe.items():
                for backend in spec["backends"]:
                    why = registry.unsupported_train_option(key, value, backend)
                    if why:
                        errors.append(
                            f"studies.{study}.{where}.{key}: {why}; change the value or drop the "
                            "backend from the study"
                        )
        errors += _runtime_errors(study, spec)
        if errors:
            continue
        grid = itertools.product(
            spec["models"], spec["activations"], spec["precisions"], spec["backends"]
        )
        for model, act, precision, backend in grid:
            impls = usermodels.model_impls(model, _user_models(config, spec))
            why = registry.unsupported(model, act, precision, backend, impls)
            if why:
                errors.append(
                    f"studies.{study}: {why}; remove it from the study or split the study"
                )
    return errors


def _user_models(config: Mapping, spec: Mapping) -> dict:
    """The declared and the study's pretrained models, each with the framework of its engine
    (an ONNX file's is torch's)."""
    files = {
        name: {"framework": pretrained.ENGINE[entry["framework"]]}
        for name, entry in spec.get("pretrained", {}).items()
    }
    return {**config["models"], **files}


def _pretrained_grid_errors(study: str, spec: Mapping) -> list[str]:
    """A trained model has one precision and its own activations: its study's grid is
    [fp32] x [relu] (the int8 runtime quantises it after training)."""
    if spec.get("pretrained") and (
        spec["precisions"] != ["fp32"] or spec["activations"] != ["relu"]
    ):
        return [
            f"studies.{study}.pretrained: models already trained are benchmarked as they are; "
            "give their study precisions: [fp32] and activations: [relu], or move them to a "
            "study of their own"
        ]
    onnx = [n for n, e in spec.get("pretrained", {}).items() if e["framework"] == "onnx"]
    if onnx and spec["runtimes"] != ["eager"]:
        return [
            f"studies.{study}.runtimes: {', '.join(onnx)} run in ONNX Runtime, which is their "
            "eager runtime; give their study runtimes: [eager]"
        ]
    return []


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


def _canonical_model_names(config: dict) -> None:
    """Zoo names in every place a study names a model, as the folder-safe `zoo.name`
    (`tradeoffs.usermodels.canonical_name`), in place."""
    for spec in config["studies"].values():
        spec["models"] = [usermodels.canonical_name(m) for m in spec["models"]]
        spec["models"] += [m for m in spec.get("pretrained", {}) if m not in spec["models"]]
        spec["train_by_model"] = {
            usermodels.canonical_name(m): r for m, r in spec["train_by_model"].items()
        }
        corrupted = spec.get("eval_on_corrupted")
        if corrupted is not None:
            if corrupted["models"] is not None:
                corrupted["models"] = [usermodels.canonical_name(m) for m in corrupted["models"]]
            reference = corrupted["reference"]
            reference["model"] = usermodels.canonical_name(reference["model"])


def dataset_shape(config: Mapping, name: str) -> tuple[int, int, int] | None:
    """A dataset's stored image shape (H, W, C) where it is known before `prepare` (None for an
    imagefolder: its most common image size)."""
    spec = dataset_spec(config, name)
    if spec["format"] == "synthetic":
        return tuple({**schemas.format_defaults("synthetic"), **spec}["shape"])
    return registry.FORMAT_SHAPES.get(spec["format"])


def _model_checks(config: Mapping, basedir: Path) -> list[dict]:
    """What `tradeoffs.modelprobe` builds: every declared or zoo model of every study (and the
    builder of every pretrained state dict), with the (input shape, classes) of each of its
    datasets known before `prepare`."""
    checks = []
    for study, spec in config["studies"].items():
        declared = spec.get("declared_models", {})
        for i, model in enumerate(spec["models"]):
            zoo = usermodels.zoo_of(model)
            if model not in declared and zoo is None:
                continue
            framework = declared[model]["framework"] if model in declared else "torch"
            side = run_study_config(spec, model)["train"]["image_size"]
            inputs = []
            for dataset in spec["datasets"]:
                classes = dataset_classes(config, dataset, basedir)
                native = dataset_shape(config, dataset) if model in declared else None
                native = usermodels.ZOO_SHAPE if zoo else native
                if classes is None or native is None:
                    continue
                shape = (side, side, native[2]) if side and framework == "torch" else native
                inputs.append((list(shape), len(classes)))
            checks.append(
                {
                    "model": model,
                    "where": f"studies.{study}.models[{i}]",
                    "framework": framework,
                    "declared": declared.get(model),
                    "zoo": list(zoo) if zoo else None,
                    "inputs": inputs,
                    "image_size": side,
                    "activations": spec["activations"],
                    "precisions": spec["precisions"],
                    "quantization": spec["quantization"],
                    "weights": spec["transfer"]["weights"],
                }
            )
    return list({json.dumps(c, sort_keys=True): c for c in checks}.values())


def _probe_models(config: Mapping, basedir: Path) -> list[str]:
    """Build every declared and zoo model once, in its framework's interpreter."""
    from tradeoffs.interpreters import interpreters

    checks = _model_checks(config, basedir)
    if not checks:
        return []
    return usermodels.probe(checks, interpreters(config["python"], basedir, conda=False))


def check_config(
    config: Mapping,
    schema_path: str | Path | None = None,
    basedir: str | Path = ".",
    config_dir: str | Path | None = None,
    probe_models: bool = True,
) -> dict:
    """Validate `config` (against the packaged schema unless `schema_path` is given) and return
    a copy with every default filled in: the only place defaults come from.

    Declared models' builder files are read from `config_dir` (the config file's folder;
    default `basedir`) and, with `probe_models`, every declared and zoo model is built once
    in its framework's interpreter (`tradeoffs.modelprobe`). Each study of the result holds
    `declared_models`, the checked entries of the declared models it names.

    Raises ConfigError listing every problem found.
    """
    schema = load_schema(schema_path)
    config = _coerce_numbers(copy.deepcopy(dict(config)), schema, schema)
    errors = list(nonfinite(config)) + _schema_errors(config, schema)
    if errors:
        raise ConfigError("\n".join(errors))
    checked = _fill_defaults(config, schema, schema)
    _canonical_model_names(checked)
    errors = _path_errors(checked) + _name_errors(checked) + _repeat_errors(checked)
    if errors:
        raise ConfigError("\n".join(dict.fromkeys(errors)))
    errors = _dataset_errors(checked, Path(basedir)) + _study_errors(checked)
    if errors:
        raise ConfigError("\n".join(dict.fromkeys(errors)))
    errors = _eval_errors(checked, Path(basedir))
    if errors:
        raise ConfigError("\n".join(dict.fromkeys(errors)))
    folder = Path(config_dir if config_dir is not None else basedir)
    declared, errors = usermodels.resolve_declared(checked["models"], folder)
    files, builders, more = pretrained.resolve(checked, folder)
    errors += more
    if errors:
        raise ConfigError("\n".join(errors))
    for study, spec in checked["studies"].items():
        used = {m: declared[m] for m in spec["models"] if m in declared} | builders[study]
        if used:  # absent otherwise: the other studies' config hashes stay as they were
            spec["declared_models"] = used
        if files[study]:
            spec["pretrained"] = files[study]
    errors = _probe_models(checked, Path(basedir)) if probe_models else []
    if errors:
        raise ConfigError("\n".join(dict.fromkeys(errors)))
    return checked


def study_runs(config: Mapping, study: str) -> list[RunId]:
    """Every run of one study of a checked config."""
    return study_grid(study, config["studies"][study])


def run_study_config(study_spec: Mapping, model: str) -> dict:
    """A checked study's config as one model's runs see it (what `RunSpec.study_config`
    holds): `train` with the model's recipe from `train_by_model` merged over it (the one place
    it is merged), and only that model's entries of the per-model keys (so editing one model's
    recipe reruns that model's jobs alone)."""
    spec = copy.deepcopy(dict(study_spec))
    recipe = spec.get("train_by_model", {}).get(model)
    spec["train"] = {**spec.get("train", {}), **(recipe or {})}
    for key in ("train_by_model", "model_options", "declared_models", "pretrained"):
        if key in spec:
            spec[key] = {m: v for m, v in spec[key].items() if m == model}
    return spec


def all_runs(config: Mapping) -> list[RunId]:
    return [run for study in config["studies"] for run in study_runs(config, study)]


def dataset_spec(config: Mapping, name: str) -> dict:
    """The full spec of a dataset name: its format and options (built-in defaults included)."""
    spec = dict(config.get("datasets", {}).get(name, {}))
    spec.setdefault("format", registry.BUILTIN_DATASETS.get(name))
    return spec
