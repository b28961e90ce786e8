"""CIFAR-10-C's corruptions: deterministic for a seed, shape and dtype kept, stronger with
severity; a corrupted set is written in the prepared format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_sample_image

from tradeoffs import io
from tradeoffs.data.corrupted import derive
from tradeoffs.data.corruptions import PARAMS, corrupt, disk_kernel, motion_offsets
from tradeoffs.data.prepared import load_prepared
from tradeoffs.registry import CORRUPTIONS, SEVERITIES, corrupted_name, parse_corrupted

RANDOM = ("gaussian_noise", "shot_noise", "impulse_noise", "motion_blur", "fog")


@pytest.fixture(scope="module")
def photos() -> np.ndarray:
    """48 natural 32 x 32 RGB patches (scikit-learn's bundled photograph, no download)."""
    image = load_sample_image("china.jpg")
    return np.stack(
        [image[y : y + 32, x : x + 32] for y in range(0, 384, 64) for x in range(0, 640, 80)]
    )


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b).mean())


def test_every_corruption_has_five_severities() -> None:
    assert tuple(PARAMS) == CORRUPTIONS
    assert all(len(values) == len(SEVERITIES) for values in PARAMS.values())


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_corruption_is_deterministic_and_keeps_shape_and_dtype(
    photos: np.ndarray, corruption: str
) -> None:
    grey = photos[:8, :28, :28].mean(axis=-1, keepdims=True).astype(np.uint8)
    for images in (photos[:8], grey):
        first = corrupt(images, corruption, 3, seed=7)
        assert first.shape == images.shape and first.dtype == np.uint8
        np.testing.assert_array_equal(first, corrupt(images, corruption, 3, seed=7))
        assert not np.array_equal(first, images)
    if corruption in RANDOM:
        assert not np.array_equal(
            corrupt(photos, corruption, 3, 7), corrupt(photos, corruption, 3, 8)
        )


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_distance_rises_with_severity(photos: np.ndarray, corruption: str) -> None:
    distances = [distance(corrupt(photos, corruption, s, seed=0), photos) for s in SEVERITIES]
    assert all(a < b for a, b in zip(distances, distances[1:], strict=False)), distances


def test_corruption_parameters_are_cifar10c() -> None:
    # Spot checks against make_cifar_c.py: the weakest and the strongest level of some.
    assert PARAMS["gaussian_noise"][0] == 0.04 and PARAMS["gaussian_noise"][4] == 0.10
    assert PARAMS["shot_noise"][4] == 50 and PARAMS["jpeg_compression"] == (80, 65, 58, 50, 40)
    assert PARAMS["motion_blur"][4] == (9, 2.5) and PARAMS["fog"][4] == (1.5, 1.75)


def test_disk_kernel_sums_to_one_and_grows_with_radius() -> None:
    small, large = disk_kernel(0.3, 0.4), disk_kernel(1.5, 0.1)
    assert small.sum() == pytest.approx(1.0) and large.sum() == pytest.approx(1.0)
    assert small.shape == (3, 3) and large.shape == (5, 5)


def test_motion_blur_taps_follow_the_angle() -> None:
    offsets, weights = motion_offsets(radius=2, sigma=1.0, angle=0.0)
    assert offsets.tolist() == [[0, 0], [0, -1], [0, -2], [0, -3], [0, -4]]
    assert weights.sum() == pytest.approx(1.0) and np.all(np.diff(weights) < 0)


def test_bad_arguments_are_named(photos: np.ndarray) -> None:
    with pytest.raises(ValueError, match="unknown corruption 'snow'"):
        corrupt(photos, "snow", 1, 0)
    with pytest.raises(ValueError, match="severity 6"):
        corrupt(photos, "fog", 6, 0)


def test_names_round_trip() -> None:
    name = corrupted_name("my-data.v2", "jpeg_compression", 4)
    assert name == "my-data.v2-c-jpeg_compression-4"
    assert parse_corrupted(name) == ("my-data.v2", "jpeg_compression", 4)
    assert parse_corrupted("cifar10") is None and parse_corrupted("x-c-snow-1") is None


def test_derive_writes_a_prepared_corrupted_set(digits_data_dir: Path, tmp_path: Path) -> None:
    base = digits_data_dir / "prepared" / "digits"
    out = tmp_path / "prepared" / "digits-c-contrast-5"
    meta = derive(base, out, "contrast", 5, seed=3, log=lambda *_: None)
    data, clean = load_prepared(out), load_prepared(base)
    assert io.read_json(out / "meta.json") == meta
    assert (meta["corruption"], meta["severity"], meta["seed"]) == ("contrast", 5, 3)
    assert meta["name"] == "digits-c-contrast-5" and meta["classes"] == clean.classes
    assert meta["train_count"] == 0 and data.train_x.shape == (0, 8, 8, 1)
    np.testing.assert_array_equal(data.test_y, clean.test_y)
    np.testing.assert_array_equal(data.test_x, corrupt(clean.test_x, "contrast", 5, 3))
