"""Which machines' runs compare: same config hash and data checksums; versions shown."""

from __future__ import annotations

import pandas as pd

from tradeoffs.analysis.comparable import comparability, comparable_runs, reference_host


def _runs(**other) -> pd.DataFrame:
    base = {"study": "s", "dataset": "digits", "model": "cnn", "seed": 0}
    common = {"provenance.config_hash": "h", "provenance.data_digest": "d"}
    rows = [
        {**base, "host": "a", **common, "provenance.versions.torch": "2.9.0"},
        {**base, "seed": 1, "host": "a", **common, "provenance.versions.torch": "2.9.0"},
        {**base, "host": "b", **common, **other},
    ]
    return pd.DataFrame(rows)


def test_same_settings_and_data_compare_and_versions_are_only_shown():
    pairs = comparability(_runs(**{"provenance.versions.torch": "2.8.1"}))
    assert pairs["comparable"].tolist() == [True]
    assert pairs["versions_differ"].tolist() == ["torch 2.9.0 / 2.8.1"]


def test_other_data_or_an_unrecorded_digest_is_refused_with_why():
    pairs = comparability(_runs(**{"provenance.data_digest": "e"}))
    assert pairs["reason"].tolist() == ["data checksums d on a, e on b"]
    pairs = comparability(_runs(**{"provenance.data_digest": None}))
    assert pairs["reason"].tolist() == ["data checksums d on a, none on b"]


def test_cross_machine_views_drop_the_refused_host_against_the_reference():
    runs = _runs(**{"provenance.config_hash": "other"})
    assert reference_host(runs) == "a"  # the most runs
    assert comparable_runs(runs)["host"].tolist() == ["a", "a"]
    assert comparability(runs.iloc[:2]).empty  # one host: nothing to pair
