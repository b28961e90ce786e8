"""Benchmarking a model already trained: a study's `pretrained: {name: {file, framework, ...}}`.

Planning side, no framework imports and nothing of the file executed: each file is judged by its
content (`tradeoffs.fileformat`), and what loading it would run is read without running it. A
torch file must be a state dict (a pickle referencing only tensors, storages and plain
containers); one that pickles classes or functions (a whole `nn.Module`) would run their code
when loaded. A Keras file must hold only layers Keras reads in safe mode (no Lambda, no class
from outside Keras and larq). `trust_code: true` on an entry allows either, explicitly.

The run's import job (`scripts/import_pretrained.py`) then loads it the safe way again
(`torch.load(weights_only=True)`, Keras' `safe_mode=True`) and writes the run's model file,
history and train.json, with the file's sha256 in the provenance, in place of training.
"""

from __future__ import annotations

import io
import pickletools
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tradeoffs import kerasconfig, registry, usermodels
from tradeoffs.fileformat import FileFormat, detect

FORMATS = {
    "torch": (FileFormat.TORCH_ZIP, FileFormat.PICKLE),
    "keras": (FileFormat.KERAS_ZIP, FileFormat.HDF5),
    "onnx": (FileFormat.ONNX_CANDIDATE,),
}
# The engine that runs each kind of file: ONNX files run in ONNX Runtime through the torch
# engine (tradeoffs.models.torch.onnxfile), on a torch backend.
ENGINE = {"torch": "torch", "keras": "keras", "onnx": "torch"}
# What a state dict's pickle may reference: torch's tensor rebuilders, storages, dtypes and
# plain containers (as torch.load(weights_only=True) allows).
DATA_MODULES = ("torch._utils", "torch.storage", "torch.serialization", "collections", "_codecs")
DATA_BUILTINS = ("set", "frozenset", "slice", "complex", "bytearray")
KERAS_MODULES = ("keras", "tf_keras", "larq")
NOT_TRAINED = "imported from a file trained elsewhere (pretrained:), not trained here"
ALLOW = "set trust_code: true on this entry to allow it (only for a file you trust)"


class PretrainedError(ValueError):
    """A pretrained file that cannot be imported, worded for its owner."""


def provenance_of(entry: Mapping[str, Any]) -> dict[str, Any]:
    """What a pretrained run's train.json provenance records of its source file."""
    keys = ("file", "format", "sha256", "trust_code")
    return {"pretrained": {key: entry[key] for key in keys}}


def pickle_globals(data: bytes) -> Iterator[str]:
    """`module.name` of every global the pickle stream(s) in `data` reference, read with
    pickletools (nothing is unpickled); "?" for one it cannot tell."""
    stream = io.BytesIO(data)
    while stream.tell() < len(data):
        strings: list[str] = []
        try:
            for op, arg, _ in pickletools.genops(stream):
                if op.name == "GLOBAL":
                    yield ".".join(arg.split(" ", 1))
                elif op.name == "STACK_GLOBAL":
                    yield ".".join(strings[-2:]) if len(strings) >= 2 else "?"
                elif isinstance(arg, str):
                    strings.append(arg)
        except (ValueError, EOFError):  # raw tensor bytes after a legacy file's pickles
            return


def _is_data(name: str) -> bool:
    module, _, attr = name.rpartition(".")
    if module == "builtins":
        return attr in DATA_BUILTINS
    if module == "torch":  # torch.FloatStorage, torch.float32, torch.Size, torch.device
        return attr.endswith("Storage") or attr in ("Size", "device") or attr.islower()
    return module.startswith(DATA_MODULES)


def torch_code_refs(path: Path, fmt: FileFormat) -> list[str]:
    """The classes and functions loading the torch file at `path` would run."""
    if fmt is FileFormat.TORCH_ZIP:
        with zipfile.ZipFile(path) as archive:
            member = next(n for n in archive.namelist() if n.split("/", 1)[-1] == "data.pkl")
            data = archive.read(member)
    else:
        data = path.read_bytes()
    return sorted({name for name in pickle_globals(data) if not _is_data(name)})


def keras_code_refs(config: Any) -> list[str]:
    """The layers of a Keras config whose loading runs code: Lambda layers (marshalled
    Python), and classes from outside Keras and larq."""
    found = []
    for layer in kerasconfig.objects(config):
        name, module = layer["class_name"], layer.get("module")
        if name == "Lambda":
            found.append("a Lambda layer")
        elif isinstance(module, str) and not module.startswith(KERAS_MODULES):
            found.append(f"{module}.{name}")
        elif ">" in str(layer.get("registered_name") or "") and not str(
            layer["registered_name"]
        ).startswith(("larq>", "keras>")):  # register_keras_serializable's "Package>Name"
            found.append(str(layer["registered_name"]))
    return sorted(set(found))


def file_errors(where: str, entry: Mapping[str, Any], path: Path) -> list[str]:
    """What is wrong with the file of one `pretrained` entry, judged by content."""
    fmt = detect(path)
    if fmt is FileFormat.MISSING:
        return [f"{where}.file: {path} does not exist"]
    accepted = FORMATS[entry["framework"]]
    if fmt not in accepted:
        if fmt in (FileFormat.TORCHSCRIPT, FileFormat.TORCH_EXPORT):
            hint = "save its state dict (torch.save(model.state_dict(), path)) with its builder"
        else:
            hint = f"give a file of {' or '.join(f.value for f in accepted)} content"
        return [f"{where}.file: {path} holds {fmt.value} content; {hint}"]
    if entry["trust_code"] or entry["framework"] == "onnx":  # ONNX Runtime runs operators only
        return []
    if entry["framework"] == "torch":
        refs = torch_code_refs(path, fmt)
        if refs:
            return [
                f"{where}.file: {path} is not a plain state dict: loading it would run code of "
                f"{', '.join(refs[:5])} (a pickled whole model?). Save model.state_dict() and "
                f"declare its builder, or {ALLOW}"
            ]
        return []
    try:
        refs = keras_code_refs(kerasconfig.read(path, fmt))
    except ValueError as error:
        return [f"{where}.file: {path}: {error}"]
    if refs:
        return [
            f"{where}.file: {path} holds {', '.join(refs)}, whose loading runs Python code of "
            f"the file's; Keras' safe mode refuses it. Rebuild it from Keras' own layers, or "
            f"{ALLOW}"
        ]
    return []


def resolve(config: Mapping[str, Any], config_dir: Path) -> tuple[dict, dict, list[str]]:
    """Every study's `pretrained` entries with absolute paths and sha256s, the declared-model
    entries of their builders ({study: {name: entry}} both), and the mistakes found."""
    files: dict[str, dict] = {}
    builders: dict[str, dict] = {}
    errors: list[str] = []
    for study, spec in config["studies"].items():
        files[study], builders[study] = {}, {}
        for name, entry in spec.get("pretrained", {}).items():
            where = f"studies.{study}.pretrained.{name}"
            if name in registry.MODELS or name in config["models"] or usermodels.zoo_of(name):
                errors.append(f"{where}: the name is taken by another model; rename it")
                continue
            if entry["framework"] == "torch" and "builder" not in entry:
                errors.append(
                    f"{where}: a torch state dict needs the builder of its network "
                    "(builder: FILE.py:FUNCTION)"
                )
                continue
            if entry["framework"] != "torch" and "builder" in entry:
                errors.append(
                    f"{where}.builder: a {entry['framework']} file holds its network; remove "
                    "builder"
                )
                continue
            if entry["framework"] != "torch" and entry["trust_code"]:
                errors.append(
                    f"{where}.trust_code: applies to torch files only; the pipeline reads Keras "
                    "models in safe mode and ONNX files run no Python"
                )
                continue
            path = (config_dir / Path(entry["file"]).expanduser()).resolve()
            found = file_errors(where, entry, path)
            if "builder" in entry:
                declared, more = usermodels.resolve_declared(
                    {name: {**entry, "options": entry["options"]}}, config_dir
                )
                found += [m.replace(f"models.{name}", f"{where}", 1) for m in more]
                builders[study].update(declared)
            if found:
                errors += found
                continue
            files[study][name] = {
                "file": str(path),
                "framework": entry["framework"],
                "format": detect(path).value,
                "sha256": usermodels.sha256_of(path),
                "trust_code": entry["trust_code"],
            }
    return files, builders, errors
