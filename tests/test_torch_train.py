"""Pieces of the torch training math: settings, loss, schedules, batches, augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from tradeoffs.config import study_with_defaults
from tradeoffs.engines.settings import TrainSettings
from tradeoffs.engines.torch.data import batch_indices, random_crop_flip, steps_per_epoch
from tradeoffs.engines.torch.steps import (
    make_loss,
    make_optimizer,
    make_scheduler,
)
from tradeoffs.seeding import epoch_order, usable_samples


def settings(**train: object) -> TrainSettings:
    """A study's train block as the checked config hands it to the engine."""
    return TrainSettings.from_cfg(study_with_defaults({"train": train})["train"])


def test_settings_take_schema_defaults():
    s = settings(epochs=3, fine_tune_epochs=2)
    assert s.epochs == 3 and s.batch_size == 128 and s.optimizer == "sgd"
    assert s.autocast == "none" and s.early_stopping is None and not s.augment


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_loss_matches_cross_entropy(smoothing: float):
    logits, y = torch.randn(5, 4), torch.tensor([0, 1, 2, 3, 0])
    expected = F.cross_entropy(logits, y, label_smoothing=smoothing)
    assert make_loss("fp32", smoothing)(logits, y) == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.parametrize("schedule", ["constant", "cosine", "step", "onecycle"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw"])
def test_schedules_run_their_course(schedule: str, optimizer: str):
    model = torch.nn.Linear(2, 2)
    s = settings(epochs=3, schedule=schedule, optimizer=optimizer)
    opt = make_optimizer(model, s)
    sched = make_scheduler(opt, s, steps_per_epoch=4)
    lrs = []
    for _ in range(12):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert (min(lrs) == max(lrs) == s.lr) == (schedule == "constant")


def test_epoch_order_is_a_permutation_of_seed_and_epoch_alone():
    order = epoch_order(0, 1, 10)
    assert sorted(order.tolist()) == list(range(10))
    np.testing.assert_array_equal(order, epoch_order(0, 1, 10))
    assert not np.array_equal(order, epoch_order(0, 2, 10))
    assert not np.array_equal(order, epoch_order(1, 1, 10))


def test_batches_follow_the_order_and_skip_a_lone_last_sample():
    order = epoch_order(0, 1, 10)
    batches = batch_indices(order, 3, torch.device("cpu"))
    assert [len(b) for b in batches] == [3, 3, 3] == [3] * steps_per_epoch(10, 3)
    assert torch.cat(batches).tolist() == order[:9].tolist()
    assert usable_samples(10, 3) == 9 and usable_samples(11, 3) == 11 and usable_samples(1, 3) == 1
    assert steps_per_epoch(11, 3) == 4


def test_crop_flip_moves_pixels_within_the_padding():
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).view(2, 3, 6, 6)
    out = random_crop_flip(x, torch.Generator().manual_seed(1), pad=0)
    for image, result in zip(x, out, strict=True):
        assert torch.equal(result, image) or torch.equal(result, image.flip(2))
    padded = random_crop_flip(x, torch.Generator().manual_seed(1), pad=2)
    assert padded.shape == x.shape
    kept = set(x.flatten().tolist()) | {0.0}
    assert set(padded.flatten().tolist()) <= kept
