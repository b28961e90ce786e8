"""The config schema and registry checks: what they accept, and how they word each mistake."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tradeoffs import registry
from tradeoffs.config import ConfigError, all_runs, check_config, load_schema

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schemas" / "config.schema.yaml"


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


def minimal() -> dict:
    return {
        "studies": {
            "s": {"datasets": ["digits"], "models": ["mnist_cnn"], "backends": ["torch-cpu"]}
        }
    }


def rejected(config: dict, tmp_path: Path = ROOT) -> str:
    with pytest.raises(ConfigError) as error:
        check_config(config, SCHEMA, tmp_path)
    return str(error.value)


@pytest.mark.parametrize("name", ["config.yaml", "configs/paper.yaml"])
def test_shipped_configs_are_valid(name):
    checked = check_config(load(name), SCHEMA, ROOT)
    assert checked["studies"]
    assert all_runs(checked)


def test_defaults_are_filled_without_changing_the_input():
    config = minimal()
    before = copy.deepcopy(config)
    checked = check_config(config, SCHEMA)
    assert config == before
    study = checked["studies"]["s"]
    assert study["precisions"] == ["fp32"]
    assert study["seeds"] == [0]
    assert study["train"]["epochs"] == 10
    assert checked["data_dir"] == "resources"


def test_schema_enumerations_match_the_registry():
    defs = load_schema(SCHEMA)["$defs"]
    study = defs["study"]["properties"]
    assert tuple(study["activations"]["items"]["enum"]) == registry.ACTIVATIONS
    assert tuple(study["precisions"]["items"]["enum"]) == registry.PRECISIONS
    assert tuple(study["backends"]["items"]["enum"]) == tuple(registry.BACKENDS)
    assert tuple(defs["dataset"]["properties"]["format"]["enum"]) == registry.DATASET_FORMATS


def test_unknown_key_names_it_and_the_valid_keys():
    config = minimal()
    config["studies"]["s"]["epochs"] = 3
    message = rejected(config)
    assert "unknown key studies.s.epochs" in message
    assert "train" in message and "models" in message


def test_unknown_top_level_key():
    config = minimal()
    config["ofline"] = True
    message = rejected(config)
    assert "unknown key ofline" in message and "offline" in message


@pytest.mark.parametrize(
    ("key", "value", "choice"),
    [
        ("backends", "torch-tpu", "torch-cuda"),
        ("precisions", "fp16", "e4m3"),
        ("activations", "mish", "swish"),
    ],
)
def test_unknown_enum_value_names_key_value_and_choices(key, value, choice):
    config = minimal()
    config["studies"]["s"][key] = [value]
    message = rejected(config)
    assert f"studies.s.{key}[0]" in message
    assert repr(value) in message
    assert choice in message


def test_unknown_model_lists_the_models():
    config = minimal()
    config["studies"]["s"]["models"] = ["mnist_cnn", "resnet19"]
    message = rejected(config)
    assert "studies.s.models[1]" in message and "'resnet19'" in message
    assert "resnet18" in message


def test_unknown_dataset_lists_the_datasets():
    config = minimal()
    config["studies"]["s"]["eval_on"] = ["cinic"]
    message = rejected(config)
    assert "studies.s.eval_on[0]" in message and "'cinic'" in message and "cinic10" in message


def test_wrong_type_names_expected_type():
    config = minimal()
    config["studies"]["s"]["train"] = {"epochs": "ten"}
    message = rejected(config)
    assert "studies.s.train.epochs: expected integer, got 'ten'" in message


def test_unsupported_combination_is_named():
    config = minimal()
    config["studies"]["s"].update(backends=["numba-cpu"], precisions=["fp4"])
    message = rejected(config)
    assert "'fp4'" in message and "numba-cpu" in message and "fp32" in message


def test_model_without_an_implementation_on_the_backend():
    config = minimal()
    config["studies"]["s"].update(models=["bnn"])
    message = rejected(config)
    assert "'bnn'" in message and "keras" in message


def test_imagefolder_path_must_exist(tmp_path):
    config = minimal()
    config["datasets"] = {"mine": {"format": "imagefolder", "path": str(tmp_path / "nope")}}
    config["studies"]["s"]["datasets"] = ["mine"]
    message = rejected(config, tmp_path)
    assert "datasets.mine.path" in message and "does not exist" in message


def test_imagefolder_needs_train_and_test(tmp_path):
    (tmp_path / "mine" / "train").mkdir(parents=True)
    config = minimal()
    config["datasets"] = {"mine": {"format": "imagefolder", "path": "mine"}}
    config["studies"]["s"]["datasets"] = ["mine"]
    message = rejected(config, tmp_path)
    assert "no test/ folder" in message


def test_study_name_cannot_shadow_the_summary_folder():
    config = minimal()
    config["studies"]["summary"] = config["studies"].pop("s")
    assert "studies.summary: the name is taken" in rejected(config)


def test_builtin_dataset_format_cannot_change():
    config = minimal()
    config["datasets"] = {"mnist": {"format": "synthetic"}}
    assert "clashes with the built-in" in rejected(config)


def snakemake(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "snakemake"
    return subprocess.run(
        [str(exe), "--snakefile", str(ROOT / "Snakefile"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_config_mistake_stops_snakemake_with_one_message_and_no_traceback(tmp_path):
    bad = minimal()
    bad["studies"]["s"]["backends"] = ["torch-tpu"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    result = snakemake("-n", "--configfile", str(path), cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "studies.s.backends[0]: 'torch-tpu' is not valid" in output
    assert "Traceback" not in output


def planned_runs(output: str) -> set[tuple[str, ...]]:
    runs = set()
    for word in output.split():
        parts = word.strip(",").split("/")
        if len(parts) >= 9 and parts[0] == "results" and parts[2] == "runs":
            runs.add((parts[1], *parts[3:9]))
    return runs


@pytest.mark.slow
def test_paper_preset_plans_exactly_the_paper_grid(tmp_path):
    result = snakemake("-n", "--configfile", str(ROOT / "configs/paper.yaml"), "-d", str(tmp_path))
    assert result.returncode == 0, result.stderr
    runs = planned_runs(result.stdout)
    paper = check_config(load("configs/paper.yaml"), SCHEMA)
    expected = {
        (r.study, r.dataset, r.model, r.act, r.precision, r.backend, f"seed{r.seed}")
        for r in all_runs(paper)
    }
    assert runs == expected
    assert len(expected) == 3 * 591  # every configuration at seeds 0, 1 and 2
    assert all(run[1] != "digits" for run in runs), "default studies leaked into the preset"
