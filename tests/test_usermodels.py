"""Declared models and the zoos in the config check: names, builder files, and the one build of
each model before any job (`tradeoffs.modelprobe`), with one message per mistake."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tradeoffs import usermodels
from tradeoffs.config import ConfigError, check_config, run_study_config

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "models"

BAD_BUILDERS = {
    "import_error": "import no_such_module_for_tradeoffs\n\ndef build(shape, n):\n    pass\n",
    "wrong_shape": (
        "from torch import nn\n\n"
        "def build(shape, n):\n"
        "    return nn.Sequential(nn.Flatten(), nn.Linear(shape[0] * shape[1] * shape[2], n + 3))\n"
    ),
    "raises": (
        "def build(shape, n, width=3):\n    raise ValueError(f'width {width} must be even')\n"
    ),
    "not_model": "def build(shape, n):\n    return [shape, n]\n",
    "linear_only": (
        "from torch import nn\n\n"
        "def build(shape, n):\n"
        "    return nn.Sequential(nn.Flatten(), nn.Linear(shape[0] * shape[1] * shape[2], n))\n"
    ),
}


def study(models: list[str], **extra) -> dict:
    return {"datasets": ["digits"], "models": models, "backends": ["torch-cpu"], **extra}


def declare(folder: Path, names, framework: str = "torch") -> dict:
    return {name: {"framework": framework, "builder": f"{name}.py:build"} for name in names}


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("builders")
    for name, source in BAD_BUILDERS.items():
        (folder / f"{name}.py").write_text(source)
    return folder


@pytest.fixture(scope="module")
def bad_message(bad_folder) -> str:
    """One check of every bad builder and a misspelt zoo name: one model-check subprocess."""
    config = {
        "models": declare(bad_folder, BAD_BUILDERS),
        "studies": {
            "s": study(
                ["import_error", "wrong_shape", "raises", "not_model", "torchvision:resnet81"]
            ),
            "q": study(["linear_only"], precisions=["fp32", "fp4"]),
        },
    }
    with pytest.raises(ConfigError) as error:
        check_config(config, basedir=ROOT, config_dir=bad_folder)
    return str(error.value)


def line_of(message: str, model: str) -> str:
    lines = [line for line in message.splitlines() if f"model {model!r}" in line]
    assert len(lines) == 1, message
    return lines[0]


def test_a_builder_that_fails_to_import_is_named_with_its_file(bad_message, bad_folder):
    line = line_of(bad_message, "import_error")
    assert line.startswith("models.import_error:")
    assert str(bad_folder / "import_error.py") in line
    assert "importing the builder failed: ModuleNotFoundError" in line
    assert "no_such_module_for_tradeoffs" in line


def test_a_builder_with_the_wrong_output_says_what_it_must_return(bad_message):
    line = line_of(bad_message, "wrong_shape")
    assert "(2, 13), not (2, 10)" in line and "num_classes logits" in line


def test_a_builder_that_raises_gives_its_error(bad_message):
    line = line_of(bad_message, "raises")
    assert "raised ValueError: width 3 must be even" in line


def test_a_builder_returning_no_model_is_refused(bad_message):
    line = line_of(bad_message, "not_model")
    assert "returned list, not a torch.nn.Module" in line


def test_a_misspelt_zoo_name_gets_the_closest_names(bad_message):
    line = line_of(bad_message, "torchvision.resnet81")
    assert line.startswith("studies.s.models[4]:")
    assert "torchvision has no classification model 'resnet81'" in line
    assert "resnet18" in line.split("closest:")[1]


def test_a_model_without_quantisable_layers_is_refused_its_formats(bad_message):
    line = line_of(bad_message, "linear_only")
    assert "precisions fp4: it has no layer the quantiser quantises" in line


def test_declared_and_zoo_models_pass_and_carry_their_builder(tmp_path):
    builder = tmp_path / "mynet.py"
    builder.write_text((EXAMPLES / "mynet.py").read_text())
    config = {
        "models": {
            "mynet": {"framework": "torch", "builder": "mynet.py:build", "options": {"width": 4}}
        },
        "studies": {
            "s": study(
                ["mynet", "torchvision:squeezenet1_1", "timm:test_resnet"],
                precisions=["fp32", "fp4"],
                activations=["relu", "gelu"],
                train={"image_size": 32},
            )
        },
    }
    checked = check_config(config, basedir=ROOT, config_dir=tmp_path)
    spec = checked["studies"]["s"]
    assert spec["models"] == ["mynet", "torchvision.squeezenet1_1", "timm.test_resnet"]
    entry = spec["declared_models"]["mynet"]
    assert entry["builder"] == f"{builder.resolve()}:build"
    assert entry["options"] == {"width": 4}
    assert entry["sha256"] == usermodels.sha256_of(builder)
    # each run's study config holds its own model's declaration only
    assert run_study_config(spec, "mynet")["declared_models"] == {"mynet": entry}
    assert run_study_config(spec, "timm.test_resnet")["declared_models"] == {}


@pytest.mark.slow
def test_keras_builders_are_built_and_read_back_in_safe_mode(tmp_path):
    (tmp_path / "good.py").write_text((EXAMPLES / "mynet_keras.py").read_text())
    (tmp_path / "lambda_layer.py").write_text(
        "import tensorflow as tf\n\n"
        "def build(shape, n):\n"
        "    inputs = tf.keras.Input(shape)\n"
        "    x = tf.keras.layers.Lambda(lambda t: t / 255.0)(inputs)\n"
        "    x = tf.keras.layers.Flatten()(x)\n"
        "    return tf.keras.Model(inputs, tf.keras.layers.Dense(n, activation='softmax')(x))\n"
    )
    config = {
        "models": declare(tmp_path, ["good", "lambda_layer"], "keras"),
        "studies": {
            "k": {
                "datasets": ["digits"],
                "models": ["good", "lambda_layer"],
                "backends": ["keras-cpu"],
            }
        },
    }
    with pytest.raises(ConfigError) as error:
        check_config(config, basedir=ROOT, config_dir=tmp_path)
    message = str(error.value)
    assert "model 'good'" not in message
    line = line_of(message, "lambda_layer")
    assert "does not save and read back as model.keras in safe mode" in line


@pytest.mark.parametrize(
    ("models", "expected"),
    [
        ({"mnist_cnn": {"framework": "torch", "builder": "a.py:build"}}, "the name is taken"),
        ({"timm.mine": {"framework": "torch", "builder": "a.py:build"}}, "the name is taken"),
        ({"mine": {"framework": "torch", "builder": "a.py"}}, "is not FILE.py:FUNCTION"),
        ({"mine": {"framework": "torch", "builder": "missing.py:build"}}, "does not exist"),
    ],
)
def test_declarations_are_checked_before_any_build(tmp_path, models, expected):
    (tmp_path / "a.py").write_text("raise SystemExit('imported')\n")
    name = next(iter(models))
    config = {"models": models, "studies": {"s": study([name])}}
    with pytest.raises(ConfigError) as error:
        check_config(config, basedir=ROOT, config_dir=tmp_path)
    assert f"models.{name}" in str(error.value) and expected in str(error.value)


def test_a_declared_name_must_be_an_identifier(tmp_path):
    (tmp_path / "a.py").write_text("")
    config = {
        "models": {"../x": {"framework": "torch", "builder": "a.py:build"}},
        "studies": {"s": study(["mnist_cnn"])},
    }
    with pytest.raises(ConfigError, match=r"models\.\.\./x: '\.\./x' is not a valid name"):
        check_config(config, basedir=ROOT, config_dir=tmp_path)


def test_zoo_names_map_to_folder_safe_names():
    assert usermodels.canonical_name("torchvision:efficientnet_b0") == "torchvision.efficientnet_b0"
    assert usermodels.canonical_name("timm.convnext_atto") == "timm.convnext_atto"
    assert usermodels.canonical_name("mynet") == "mynet"
    assert usermodels.zoo_of("timm:convnext_atto") == ("timm", "convnext_atto")
    assert usermodels.zoo_of("torchvision:../x") is None


@pytest.mark.slow
def test_a_bad_builder_stops_snakemake_before_any_job(tmp_path, bad_folder):
    config = {
        "data_dir": str(tmp_path / "data"),
        "results_dir": str(tmp_path / "results"),
        "models": {"raises": {"framework": "torch", "builder": f"{bad_folder}/raises.py:build"}},
        "studies": {"s": study(["raises"])},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    snakemake = str(Path(sys.executable).parent / "snakemake")
    result = subprocess.run(
        [snakemake, "--cores", "1", "--nolock", "--configfile", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )
    assert result.returncode == 1
    assert "Config error:\nmodels.raises: model 'raises'" in result.stderr
    assert "raised ValueError: width 3 must be even" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]


@pytest.mark.slow
def test_a_declared_keras_model_trains_and_reloads(tmp_path):
    """The Keras engine builds a declared model from its builder, trains and saves it; the
    model file reads back without the builder."""
    import numpy as np
    from keras_helpers import make_spec
    from prepared_digits import write_prepared_digits

    from tradeoffs.engines import load
    from tradeoffs.models.keras import INPUT_SHAPE, load_model

    builder = f"{EXAMPLES / 'mynet_keras.py'}:build"
    declared = {"mine": {"framework": "keras", "builder": builder, "options": {"width": 4}}}
    data_dir = write_prepared_digits(tmp_path / "data", 10, 4)
    spec = make_spec(data_dir, tmp_path / "run", "mine", study="any", declared_models=declared)
    load("keras").train(spec)
    train = json.loads((tmp_path / "run" / "train.json").read_text())
    assert train["status"] == "ok" and train["epochs_run"] == 1 and train["params"] > 0
    reloaded = load_model(spec.model_path)
    assert reloaded.name == "mynet_keras"
    assert reloaded(np.zeros((2, *INPUT_SHAPE), np.float32)).shape == (2, 10)
