"""Per-model train recipes (`train_by_model`) and architecture options (`model_options`): the
default config plans, every model's recipe is one the schema accepts, and mistakes are named."""

import copy
from pathlib import Path

import jsonschema
import pytest
import yaml

from tradeoffs.config import ConfigError, check_config, load_schema, run_study_config, study_runs
from tradeoffs.runspec import RunSpec

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schemas" / "config.schema.yaml"


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


def study(**extra) -> dict:
    spec = {"datasets": ["digits"], "models": ["cnn", "vit"], "backends": ["torch-cpu"]}
    return {"studies": {"s": {**spec, **extra}}}


def rejected(config: dict) -> str:
    with pytest.raises(ConfigError) as error:
        check_config(config, SCHEMA, ROOT)
    return str(error.value)


def test_default_config_gives_every_model_a_recipe_the_schema_accepts():
    checked = check_config(load("config.yaml"), SCHEMA, ROOT)
    schema = load_schema(SCHEMA)
    train_schema = {**schema["$defs"]["train"], "$defs": schema["$defs"]}
    options_schema = {**schema["$defs"]["model_options"], "$defs": schema["$defs"]}
    for name, spec in checked["studies"].items():
        runs = study_runs(checked, name)
        assert runs, name
        for run in runs:
            seen = run_study_config(spec, run.model)
            jsonschema.validate(seen["train"], train_schema)
            jsonschema.validate(seen["model_options"], options_schema)
            recipe = spec["train_by_model"].get(run.model, {})
            assert seen["train"] == {**spec["train"], **recipe}
            # A run's jobs see only their own model's entries.
            assert set(seen["train_by_model"]) <= {run.model}
            spec_ = RunSpec(**run.keys(), run_dir=Path("r"), data_dir=Path("d"), study_config=seen)
            assert spec_.train_cfg == seen["train"]
            assert spec_.model_options == spec["model_options"].get(run.model, {})


def test_paper_preset_builds_every_network_as_its_seed_defines_it():
    checked = check_config(load("configs/paper.yaml"), SCHEMA, ROOT)
    assert all(not spec["model_options"] for spec in checked["studies"].values())


def test_a_recipe_overrides_only_the_keys_it_sets():
    config = study(train={"epochs": 3, "lr": 0.002}, train_by_model={"vit": {"lr": 0.001}})
    spec = check_config(config, SCHEMA, ROOT)["studies"]["s"]
    assert spec["train_by_model"] == {"vit": {"lr": 0.001}}  # no defaults filled in
    vit = run_study_config(spec, "vit")["train"]
    cnn = run_study_config(spec, "cnn")["train"]
    assert (vit["lr"], vit["epochs"]) == (0.001, 3)
    assert (cnn["lr"], cnn["epochs"]) == (0.002, 3)
    assert run_study_config(spec, "cnn")["train_by_model"] == {}


def test_a_recipe_for_a_model_outside_the_study_is_named():
    message = rejected(study(train_by_model={"resnet18": {"epochs": 2}}))
    assert "studies.s.train_by_model.resnet18" in message
    assert "cnn, vit" in message


def test_a_bad_recipe_key_or_value_is_named():
    message = rejected(study(train_by_model={"vit": {"epoch": 2}}))
    assert "studies.s.train_by_model.vit.epoch" in message
    message = rejected(study(train_by_model={"vit": {"optimizer": "lamb"}}))
    assert "'lamb'" in message and "sgd" in message


def test_model_options_are_checked_per_model():
    assert rejected(study(model_options={"vit": {"width": 0.5}})).startswith(
        "unknown key studies.s.model_options.vit.width"
    )
    message = rejected(study(model_options={"mobilenetv2": {"width": 0.5}}))
    assert "model_options.mobilenetv2" in message and "not one of the study's models" in message


def test_model_options_reach_the_torch_builder():
    from tradeoffs.models.torch import build_model

    small = build_model("vit", "relu", 10, (32, 32, 3), {"patch": 8, "dim": 32, "depth": 1})
    full = build_model("vit", "relu", 10, (32, 32, 3))
    assert len(small.blocks) == 1 and len(full.blocks) == 4
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    narrow = build_model("mobilenetv2", "relu", 10, (32, 32, 3), {"width": 0.5})
    assert count(narrow) < count(build_model("mobilenetv2", "relu", 10, (32, 32, 3))) / 2


def test_checking_leaves_the_config_as_given():
    config = study(train_by_model={"vit": {"lr": 0.001}})
    before = copy.deepcopy(config)
    check_config(config, SCHEMA, ROOT)
    assert config == before


def test_image_size_is_a_torch_and_keras_option_the_numba_engine_refuses():
    config = study(train={"image_size": 16})
    assert check_config(config, SCHEMA, ROOT)["studies"]["s"]["train"]["image_size"] == 16
    keras = {"datasets": ["digits"], "models": ["cnn"], "backends": ["keras-cpu"]}
    checked = check_config({"studies": {"s": {**keras, "train": {"image_size": 16}}}}, SCHEMA, ROOT)
    assert checked["studies"]["s"]["train"]["image_size"] == 16
    numba = {"datasets": ["digits"], "models": ["mnist_cnn"], "backends": ["numba-cpu"]}
    message = rejected({"studies": {"s": {**numba, "train": {"image_size": 16}}}})
    assert "image_size" in message and "numba-cpu" in message
    message = rejected(study(train={"image_size": 4}))
    assert "studies.s.train.image_size" in message and "8" in message
