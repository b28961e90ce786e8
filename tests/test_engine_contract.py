"""Every framework's engine implements the one contract, `tradeoffs.engines.Engine`."""

from __future__ import annotations

import inspect

import pytest

from tradeoffs import engines

MEMBERS = [name for name in vars(engines.Engine) if not name.startswith("_")]


def test_the_contract_names_every_step():
    assert sorted(MEMBERS) == ["benchmark", "loaded", "predict", "predictor", "train"]


@pytest.mark.parametrize("framework", ["torch", "numba", "keras"])
def test_each_engine_implements_the_contract(framework):
    engine = engines.load(framework)
    for name in MEMBERS:
        expected = list(inspect.signature(getattr(engines.Engine, name)).parameters)[1:]
        assert list(inspect.signature(getattr(engine, name)).parameters) == expected, name
