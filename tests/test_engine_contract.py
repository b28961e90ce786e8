"""Every framework's engine implements the one contract, `tradeoffs.engines.Engine`, with the
same files doing the same job, one settings type and one best-epoch tracker
(docs/architecture.md, "Engines")."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from pathlib import Path

import pytest

from tradeoffs import engines, schemas
from tradeoffs.engines.settings import TrainSettings

MEMBERS = [name for name in vars(engines.Engine) if not name.startswith("_")]
FRAMEWORKS = ["torch", "numba", "keras"]
PACKAGES = Path(engines.__file__).parent

# Each engine package's files and what each must define (its job, by the names callers use).
FILES = {
    "__init__": MEMBERS,  # the Engine implementation; train comes from fit
    "fit": ["train"],  # the epoch loop
    "steps": ["evaluate"],  # the training parts the loop calls
    "data": [],  # the prepared dataset as the framework trains on it
    "device": ["configure", "device_name", "peak_vram_mb"],  # threads, seeds, device facts
    "checkpoint": ["save", "load"],  # the per-epoch resume state
    "modelfile": ["save", "load"],  # the model file evaluate and benchmark read
    "bench": ["model_facts"],  # the model's static costs for train.json
}
OPTIONAL = {"pretrained"}  # where the framework imports trained files


def test_the_contract_names_every_step():
    assert sorted(MEMBERS) == ["benchmark", "loaded", "predict", "predictor", "train"]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_each_engine_implements_the_contract(framework):
    engine = engines.load(framework)
    assert sorted(engine.__all__) == sorted(MEMBERS)
    for name in MEMBERS:
        expected = list(inspect.signature(getattr(engines.Engine, name)).parameters)[1:]
        assert list(inspect.signature(getattr(engine, name)).parameters) == expected, name
    assert engine.train is importlib.import_module(f"{engine.__name__}.fit").train


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_each_engine_has_the_same_files_with_the_same_jobs(framework):
    folder = PACKAGES / framework
    present = {path.stem for path in folder.glob("*.py")}
    assert set(FILES) <= present, f"missing {sorted(set(FILES) - present)}"
    assert present - set(FILES) <= OPTIONAL, f"unexpected {sorted(present - set(FILES))}"
    assert not (folder / "runtime.py").exists()  # device set-up is device.py
    for stem, names in FILES.items():
        module = importlib.import_module(f"tradeoffs.engines.{framework}.{stem}")
        for name in names:
            assert callable(getattr(module, name, None)), f"{framework}/{stem}.py: {name}"


def test_train_settings_are_the_schemas_train_block():
    """One fact in one place: the settings' fields are the schema's `train` properties (their
    defaults live there only)."""
    schema = schemas.config_schema()["$defs"]["train"]["properties"]
    assert [f.name for f in dataclasses.fields(TrainSettings)] == list(schema)
    assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(TrainSettings))
    with pytest.raises(KeyError):  # fills nothing itself
        TrainSettings.from_cfg({"epochs": 1})


def _engine_sources() -> list[tuple[str, str]]:
    return [
        (str(path.relative_to(PACKAGES)), path.read_text())
        for framework in FRAMEWORKS
        for path in sorted((PACKAGES / framework).glob("*.py"))
    ]


def test_engines_read_training_options_through_the_settings_only():
    """No engine reads the raw `train:` dict (`spec.train_cfg`): each builds `TrainSettings`."""
    offenders = [name for name, text in _engine_sources() if "train_cfg" in text]
    assert not offenders, offenders


def test_the_best_epoch_and_patience_bookkeeping_is_the_trackers_alone():
    """`best_checkpoint`, `early_stopping` and the counters are read in `engines/selection.py`
    (and the settings), never in an engine package."""
    pattern = re.compile(r"\.(best_checkpoint|early_stopping|best_acc|best_loss|bad_epochs)\b")
    offenders = [name for name, text in _engine_sources() if pattern.search(text)]
    assert not offenders, offenders
