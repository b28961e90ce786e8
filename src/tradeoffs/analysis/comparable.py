"""Which machines' runs may be compared with each other.

Runs of one model on two hosts compare only when they were made with the same study settings
(`provenance.config_hash`) on the same data (`provenance.data_digest`, a hash of the prepared
arrays' sums); otherwise the pair is refused, with why (a value one host did not record is
refused too: it cannot be checked; records that carry neither compare, as before). Library
versions that differ do not refuse a pair: they are listed beside it, since they are part of
what a machine measures.
Cross-machine views (the across-device frontier, the findings) use `comparable_runs`: every
host's runs of a (study, dataset, model) that agree with the reference host's, the host with the
most runs.
"""

from __future__ import annotations

from itertools import combinations

import pandas as pd

from tradeoffs.analysis.load import HOST

GROUP = ("study", "dataset", "model")
CHECKS = {"provenance.config_hash": "config hash", "provenance.data_digest": "data checksums"}
VERSIONS = "provenance.versions."
COLUMNS = (*GROUP, "host_a", "host_b", "comparable", "reason", "versions_differ")


def _values(runs: pd.DataFrame, column: str) -> str:
    if column not in runs:
        return ""
    return ", ".join(sorted(runs[column].dropna().astype(str).unique()))


def _pair(a: pd.DataFrame, b: pd.DataFrame, host_a: str, host_b: str) -> tuple[str, str]:
    """(why the pair is refused or "", the library versions that differ)."""
    reasons = []
    for column, what in CHECKS.items():
        mine, theirs = _values(a, column), _values(b, column)
        if mine != theirs:  # one side unrecorded is a difference too: it cannot be checked
            reasons.append(f"{what} {mine or 'none'} on {host_a}, {theirs or 'none'} on {host_b}")
    versions = sorted(c for c in {*a.columns, *b.columns} if c.startswith(VERSIONS))
    differ = [
        f"{c.removeprefix(VERSIONS)} {_values(a, c) or '-'} / {_values(b, c) or '-'}"
        for c in versions
        if _values(a, c) != _values(b, c)
    ]
    return "; ".join(reasons), "; ".join(differ)


def comparability(runs: pd.DataFrame) -> pd.DataFrame:
    """Every pair of hosts that ran the same (study, dataset, model): comparable or not, why
    not, and which library versions differ."""
    rows = []
    if HOST not in runs or runs[HOST].nunique() < 2:
        return pd.DataFrame(columns=list(COLUMNS))
    for key, group in runs.groupby(list(GROUP), sort=True):
        hosts = sorted(group[HOST].dropna().unique())
        for host_a, host_b in combinations(hosts, 2):
            a, b = group[group[HOST] == host_a], group[group[HOST] == host_b]
            reason, versions = _pair(a, b, host_a, host_b)
            rows.append(
                dict(zip(GROUP, key, strict=True))
                | {"host_a": host_a, "host_b": host_b, "comparable": not reason}
                | {"reason": reason, "versions_differ": versions}
            )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def reference_host(runs: pd.DataFrame) -> str | None:
    """The host the others are compared against: the one with the most runs (then by name)."""
    if HOST not in runs or runs[HOST].dropna().empty:
        return None
    counts = runs[HOST].value_counts()
    return sorted(counts.index, key=lambda h: (-counts[h], h))[0]


def comparable_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs a cross-machine comparison may use: the reference host's, and every other
    host's runs of a (study, dataset, model) whose pair with the reference is comparable (or
    that the reference host did not run)."""
    reference = reference_host(runs)
    pairs = comparability(runs)
    if reference is None or pairs.empty:
        return runs
    refused = pairs[
        ~pairs["comparable"] & ((pairs.host_a == reference) | (pairs.host_b == reference))
    ]
    drop = pd.Series(False, index=runs.index)
    for _, pair in refused.iterrows():
        other = pair.host_b if pair.host_a == reference else pair.host_a
        mask = runs[HOST] == other
        for key in GROUP:
            mask &= runs[key] == pair[key]
        drop |= mask
    return runs[~drop]


def refused_sentences(runs: pd.DataFrame) -> list[str]:
    """One sentence per refused pair, for the findings."""
    pairs = comparability(runs)
    refused = pairs[~pairs["comparable"]] if not pairs.empty else pairs
    return [
        f"Not compared: {r.model} on {r.dataset} between {r.host_a} and {r.host_b} ({r.reason})."
        for r in refused.itertuples()
    ]
