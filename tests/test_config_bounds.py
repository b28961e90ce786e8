"""Every number of the config is bounded and finite, and data_dir / results_dir are folders of
their own (issue 26); a property test (Hypothesis) feeds the check generated configs and
asserts one ConfigError message or a checked config, never another exception."""

from __future__ import annotations

import math
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_config import SCHEMA, minimal, rejected

from tradeoffs.config import ConfigError, check_config


def _with_train(**train) -> dict:
    config = minimal()
    config["studies"]["s"]["train"] = train
    return config


@pytest.mark.parametrize("key", ["lr", "momentum", "label_smoothing", "weight_decay"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_train_numbers_are_refused(key: str, value: float) -> None:
    message = rejected(_with_train(**{key: value}))
    assert message == f"studies.s.train.{key} is {value}, not a finite number"


def test_non_finite_fraction_is_refused() -> None:
    config = {**minimal(), "time_to_accuracy_fraction": math.nan}
    assert rejected(config) == "time_to_accuracy_fraction is nan, not a finite number"


@pytest.mark.parametrize(
    ("train", "message"),
    [
        ({"image_size": 100000}, "studies.s.train.image_size: 100000: 100000 is greater than"),
        ({"epochs": 10**12}, "is greater than the maximum of 100000"),
        ({"batch_size": 2**40}, "is greater than the maximum of 65536"),
        ({"lr": 1e6}, "is greater than the maximum of 10"),
        ({"label_smoothing": 1.0}, "is greater than or equal to the maximum of 1"),
    ],
)
def test_numbers_have_upper_bounds(train: dict, message: str) -> None:
    assert message in rejected(_with_train(**train))


@pytest.mark.parametrize("key", ["data_dir", "results_dir"])
def test_the_root_and_files_are_not_folders(key: str, tmp_path: Path) -> None:
    assert "is the file system's root" in rejected({**minimal(), key: "/"})
    assert "is the file system's root" in rejected({**minimal(), key: "/tmp/.."})
    a_file = tmp_path / "results.txt"
    a_file.write_text("")
    assert "exists and is not a folder" in rejected({**minimal(), key: str(a_file)})
    check_config({**minimal(), key: str(tmp_path / "new")}, SCHEMA)  # absent: made later


# --- property-based ------------------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1e308, -0.0, 2**63, "1e-3", "nan", "inf", "1e400"]),
)
NAMES = st.one_of(
    st.text(max_size=12),
    st.text(string.ascii_letters + "./-_ ~$", max_size=12),
    st.sampled_from(["..", "/", "/etc/passwd", "~", "a/../b", "résumé", "名前", "\x00", "{x}"]),
)
PLAUSIBLE = st.one_of(st.integers(min_value=1, max_value=64), st.floats(1e-4, 1.0))
VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, NAMES),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(NAMES, inner, max_size=3)),
    max_leaves=8,
)
TRAIN_KEYS = [
    "epochs",
    "batch_size",
    "lr",
    "momentum",
    "weight_decay",
    "label_smoothing",
    "image_size",
    "limit_train",
    "early_stopping",
    "optimizer",
    "schedule",
]
STUDY_KEYS = [
    "datasets",
    "models",
    "backends",
    "seeds",
    "precisions",
    "activations",
    "runtimes",
    "benchmark",
    "train_by_model",
    "model_options",
]
TOP_KEYS = [
    "data_dir",
    "results_dir",
    "threads",
    "time_to_accuracy_fraction",
    "datasets",
    "corruption_seed",
    "offline",
    "mirrors",
    "python",
]


@st.composite
def configs(draw) -> dict:
    """Half near-valid (known keys, plausible numbers: the later checks run), half hostile."""
    config = minimal()
    study = config["studies"]["s"]
    hostile = draw(st.booleans())
    keys = st.sampled_from(TRAIN_KEYS) | NAMES if hostile else st.sampled_from(TRAIN_KEYS)
    values = PLAUSIBLE | NUMBERS | VALUES if hostile else PLAUSIBLE | NUMBERS
    study["train"] = draw(st.dictionaries(keys, values, max_size=3))
    if hostile:
        for key in draw(st.lists(st.sampled_from(STUDY_KEYS), max_size=2)):
            study[key] = draw(VALUES)
    for key in draw(
        st.lists(st.sampled_from(TOP_KEYS) | (NAMES if hostile else st.nothing()), max_size=2)
    ):
        config[key] = draw(PLAUSIBLE | NAMES | VALUES)
    if hostile and draw(st.booleans()):
        config["studies"] = {draw(NAMES): study}
    return config


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_any_config_is_checked_or_refused_with_one_message(config: dict) -> None:
    try:
        checked = check_config(config, SCHEMA)
    except ConfigError as error:
        message = str(error)
        assert message.strip() and "Traceback" not in message
        event("refused")
        return
    event("accepted")
    assert checked["studies"]
