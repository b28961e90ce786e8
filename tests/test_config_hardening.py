"""The config check refuses what would reach the shell or the file system as a name, repeated
entries and keys, and evaluations on datasets with other classes; it reads `1e-3` as a number."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_config import SCHEMA, minimal, rejected

from tradeoffs.config import ConfigError, check_config, dataset_classes, load_yaml

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ["x$(touch PWNED)", "..", ".", "a/b", "a b", "", "-rf", "x;touch PWNED", "a\nb"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_dataset_name_is_refused(name, tmp_path):
    config = minimal()
    config["datasets"] = {name: {"format": "synthetic"}}
    config["studies"]["s"]["datasets"] = [name]
    message = rejected(config)
    assert f"datasets.{name}: {name!r} is not a valid name" in message
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_study_name_is_refused(name):
    config = {"studies": {name: minimal()["studies"]["s"]}}
    assert f"studies.{name}: {name!r} is not a valid name" in rejected(config)


@pytest.mark.parametrize("key", ["datasets", "eval_on", "models"])
def test_hostile_entry_in_a_study_is_refused(key):
    config = minimal()
    config["studies"]["s"][key] = ["../../etc"]
    assert f"studies.s.{key}[0]: '../../etc' is not a valid name" in rejected(config)


@pytest.mark.parametrize("name", ["cifar10-small", "my_data.v2", "A1"])
def test_ordinary_names_pass(name):
    config = minimal()
    config["datasets"] = {name: {"format": "synthetic"}}
    config["studies"] = {name: {**config["studies"]["s"], "datasets": [name]}}
    assert name in check_config(config, SCHEMA)["studies"]


@pytest.mark.parametrize("key", ["data_dir", "results_dir"])
@pytest.mark.parametrize("value", ["", "  ", "res{study}", "a\tb"])
def test_unusable_folder_is_refused(key, value):
    config = {**minimal(), key: value}
    assert f"{key}: {value!r} is not a usable folder" in rejected(config)


def test_folders_with_spaces_and_shell_syntax_are_accepted():
    config = {**minimal(), "data_dir": "my data $(x)", "results_dir": "out 'q'"}
    assert check_config(config, SCHEMA)["data_dir"] == "my data $(x)"


@pytest.mark.parametrize(
    ("key", "values", "repeated"),
    [
        ("seeds", [0, 0], "0"),
        ("models", ["mnist_cnn", "mnist_cnn"], "'mnist_cnn'"),
        ("datasets", ["digits", "digits"], "'digits'"),
        ("backends", ["torch-cpu", "torch-cpu"], "'torch-cpu'"),
        ("precisions", ["fp32", "fp32"], "'fp32'"),
        ("eval_on", ["mnist", "mnist"], "'mnist'"),
    ],
)
def test_repeated_entries_are_refused(key, values, repeated):
    config = minimal()
    config["studies"]["s"][key] = values
    assert f"studies.s.{key}: {repeated} is listed 2 times; list it once" in rejected(config)


def test_repeated_yaml_key_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "studies:\n"
        "  s: {datasets: [digits], models: [mnist_cnn], backends: [torch-cpu]}\n"
        "  s: {datasets: [digits], models: [mnist_cnn], backends: [numba-cpu]}\n"
    )
    with pytest.raises(ConfigError, match=r"line 3: key 's' is repeated \(first on line 2\)"):
        load_yaml(path)


def test_yaml_merge_keys_are_not_repeats(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("base: &b {x: 1}\nother:\n  <<: *b\n  x: 2\n")
    assert load_yaml(path)["other"] == {"x": 2}


def test_snakemake_refuses_a_repeated_key_before_any_job(tmp_path):
    path = tmp_path / "c.yaml"
    study = "{datasets: [digits], models: [mnist_cnn], backends: [torch-cpu]}"
    path.write_text(f"studies:\n  s: {study}\n  t: {study}\n  s: {study}\n")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "snakemake"), "-n", "-s", str(ROOT / "Snakefile")]
        + ["--configfile", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "line 4: key 's' is repeated (first on line 2)" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("text", "value"), [("1e-3", 0.001), ("5E-4", 0.0005), ("+1.5e-1", 0.15), ("2", 2.0)]
)
def test_scientific_notation_is_a_number(text, value):
    config = minimal()
    config["studies"]["s"]["train"] = yaml.safe_load(f"{{lr: {text}, weight_decay: 1e-4}}")
    train = check_config(config, SCHEMA)["studies"]["s"]["train"]
    assert train["lr"] == value and train["weight_decay"] == 1e-4


def test_integral_scientific_notation_fills_an_integer_field():
    config = minimal()
    config["studies"]["s"]["train"] = {"epochs": "1e1"}
    assert check_config(config, SCHEMA)["studies"]["s"]["train"]["epochs"] == 10


def test_a_word_is_still_not_a_number():
    config = minimal()
    config["studies"]["s"]["train"] = {"lr": "fast"}
    assert "studies.s.train.lr: expected number, got 'fast'" in rejected(config)


def test_same_classes_evaluate_without_a_map():
    config = minimal()
    config["studies"]["s"].update(datasets=["cifar10"], models=["cnn"], eval_on=["cinic10"])
    assert check_config(config, SCHEMA)["studies"]["s"]["eval_on"] == ["cinic10"]
    config["studies"]["s"].update(datasets=["digits"], models=["mnist_cnn"], eval_on=["mnist"])
    assert check_config(config, SCHEMA)


@pytest.mark.parametrize(
    ("other", "spec"),
    [
        ("cifar10", {}),  # 10 different classes: a meaningless accuracy before
        ("cifar100", {}),  # more classes: a traceback before
        ("few", {"few": {"format": "synthetic", "classes": 3}}),  # fewer classes
    ],
)
def test_other_classes_are_refused_before_any_job(other, spec):
    config = minimal()
    config["datasets"] = spec
    config["studies"]["s"]["eval_on"] = [other]
    message = rejected(config)
    assert f"cannot evaluate runs trained on 'digits' on {other!r}" in message
    assert "class_map" in message


def make_classes(root: Path, names: list[str]) -> Path:
    for split in ("train", "test"):
        for name in names:
            (root / split / name).mkdir(parents=True)
    return root


def test_class_map_onto_the_training_classes(tmp_path):
    make_classes(tmp_path / "mine", ["car", "plane"])
    config = minimal()
    config["datasets"] = {"mine": {"format": "imagefolder", "path": str(tmp_path / "mine")}}
    config["studies"]["s"].update(datasets=["cifar10"], models=["cnn"], eval_on=["mine"])
    assert dataset_classes(config, "mine") == ["car", "plane"]
    assert "differ from the training classes [airplane," in rejected(config)
    config["studies"]["s"]["class_map"] = {"mine": {"plane": "airplane"}}
    assert "class 'car' is not mapped" in rejected(config)
    config["studies"]["s"]["class_map"] = {"mine": {"plane": "airplane", "car": "automobile"}}
    assert check_config(config, SCHEMA)["studies"]["s"]["class_map"]["mine"]["car"]
    config["studies"]["s"]["class_map"] = {"mine": {"plane": "airplane", "car": "airplane"}}
    assert "training class 'airplane' is the target of more than one" in rejected(config)
    config["studies"]["s"]["class_map"] = {"mine": {"plane": "jet", "car": "automobile"}}
    assert "'plane' -> 'jet' is not a training class" in rejected(config)
    config["studies"]["s"]["class_map"] = {"cinic10": {}}
    assert "class_map.cinic10: 'cinic10' is not in eval_on" in rejected(config)


def test_imagefolder_with_one_class_is_refused(tmp_path):
    make_classes(tmp_path / "one", ["only"])
    config = minimal()
    config["datasets"] = {"one": {"format": "imagefolder", "path": str(tmp_path / "one")}}
    assert "needs at least two class folders" in rejected(config)
