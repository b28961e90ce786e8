"""Accuracy under corruption (Hendrycks and Dietterich, ICLR 2019): per run, the mean accuracy
and calibration error over its corrupted test sets; per study, mCE and relative mCE against the
study's reference run.

With E(c, s) the top-1 error on corruption c at severity s and E(clean) the clean error:
- corruption error CE(c) = sum_s E(c, s) / sum_s E_ref(c, s), and mCE its mean over corruptions;
- relative CE(c) = sum_s (E(c, s) - E(clean)) / sum_s (E_ref(c, s) - E_ref(clean)), and
  relative mCE its mean over corruptions.
The reference (AlexNet in the paper) is the study's `eval_on_corrupted.reference` run with the
same dataset, activation, backend and seed. Both are ratios (1 = as robust as the reference); a
corruption on which the reference makes no error (or, for the relative form, loses no accuracy)
leaves them undefined (NaN). Their 95% intervals (`mce_ci`, `relative_mce_ci`) come from a
bootstrap over the test images, one draw picking the same images in the run's clean and
corrupted sets and in its reference's (`mce_intervals`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradeoffs.analysis.load import CONFIG_KEYS, ok_runs
from tradeoffs.evaluation import calibration_error
from tradeoffs.identity import KEYS
from tradeoffs.intervals import LEVEL, as_interval, bootstrap_examples
from tradeoffs.records.predictions import CORRUPTED_FILE, ExamplePredictions, read_run, read_sets
from tradeoffs.registry import CORRUPTIONS, parse_corrupted

Errors = Mapping[tuple[str, int], float]  # (corruption, severity) -> top-1 error
# What a run shares with its reference run: everything but the model and the precision.
RUN_MATCH = tuple(k for k in KEYS if k not in ("model", "precision"))


def corruption_summary(evals: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """metrics.json's `corruption_acc` and `corruption_ece` (means over every corrupted set the
    run was evaluated on) and `corruption_sets`; nothing for a run without corrupted sets."""
    records = [record for name, record in evals.items() if parse_corrupted(name)]
    if not records:
        return {}
    accs = [record.get("acc") for record in records]
    eces = [record.get("ece") for record in records]
    done = all(value is not None for value in accs + eces)
    return {
        "corruption_acc": float(np.mean(accs)) if done else None,
        "corruption_ece": float(np.mean(eces)) if done else None,
        "corruption_sets": len(records),
    }


def corruption_intervals(sets: Mapping[str, ExamplePredictions]) -> dict[str, Any]:
    """`corruption_acc_ci` and `corruption_ece_ci`: bootstrap intervals of the means over the
    corrupted sets, resampling the test images (one draw picks an image in every set)."""
    preds = [sets[name] for name in sorted(sets)]
    if not preds or len({len(p) for p in preds}) != 1 or not len(preds[0]):
        return {}
    correct = np.stack([p.correct for p in preds])
    confidence = np.stack([p.confidence.astype(np.float64) for p in preds])
    n = correct.shape[1]
    pairs = list(zip(confidence, correct, strict=True))
    return {
        "corruption_acc_ci": bootstrap_examples(lambda i: float(correct[:, i].mean()), n),
        "corruption_ece_ci": bootstrap_examples(
            lambda i: float(np.mean([calibration_error(f[i], c[i]) for f, c in pairs])), n
        ),
    }


def corruption_ratio(errors: np.ndarray, reference: np.ndarray, groups: np.ndarray) -> float:
    """The mean over corruptions of sum_s errors / sum_s reference, per-set arrays whose
    corruption is `groups` (indices 0..C-1); NaN for a corruption whose reference sum is not
    positive, and for no sets at all. The one computation behind `mce` and `relative_mce`."""
    if not len(groups):
        return float("nan")
    count = int(groups.max()) + 1
    numerators = np.bincount(groups, errors, count)
    denominators = np.bincount(groups, reference, count)
    positive = denominators > 0
    ratios = np.divide(numerators, denominators, out=np.full(count, np.nan), where=positive)
    return float(ratios.mean())


def _arrays(errors: Errors, reference: Errors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The two error maps as arrays over their (shared) sets, and each set's corruption index."""
    keys = sorted(errors)
    corruptions = sorted({c for c, _ in keys})
    groups = np.array([corruptions.index(c) for c, _ in keys], dtype=np.int64)
    own = np.array([errors[k] for k in keys], dtype=np.float64)
    ref = np.array([reference[k] for k in keys], dtype=np.float64)
    return own, ref, groups


def mce(errors: Errors, reference: Errors) -> float:
    """Mean corruption error: the mean over corruptions of sum_s E / sum_s E_ref."""
    if set(errors) != set(reference):
        return float("nan")
    return corruption_ratio(*_arrays(errors, reference))


def relative_mce(errors: Errors, clean: float, reference: Errors, reference_clean: float) -> float:
    """Relative mCE: the mean over corruptions of sum_s (E - E_clean) / sum_s (E_ref -
    E_ref_clean), the degradation relative to the reference's."""
    if set(errors) != set(reference):
        return float("nan")
    own, ref, groups = _arrays(errors, reference)
    return corruption_ratio(own - clean, ref - reference_clean, groups)


@dataclass(frozen=True)
class CorruptedExamples:
    """One run's per-example predictions on its clean test split and its corrupted sets."""

    clean: ExamplePredictions
    sets: Mapping[str, ExamplePredictions]  # set name (registry.corrupted_name) -> predictions


def read_corrupted_examples(run_dir: str | Path, dataset: str) -> CorruptedExamples | None:
    """A run's clean and corrupted-set predictions files, None when either is missing."""
    clean = read_run(run_dir, dataset)
    path = Path(run_dir) / CORRUPTED_FILE
    if clean is None or not path.exists():
        return None
    sets = read_sets(path)
    return CorruptedExamples(clean, sets) if sets else None


def _paired(run: CorruptedExamples, reference: CorruptedExamples) -> bool:
    """The same images, in the same order, in every set of both runs."""
    every = [run.clean, reference.clean, *run.sets.values(), *reference.sets.values()]
    return set(run.sets) == set(reference.sets) and all(
        np.array_equal(p.label, run.clean.label) for p in every
    )


def mce_intervals(run: CorruptedExamples, reference: CorruptedExamples) -> dict[str, Any]:
    """`mce_ci` and `relative_mce_ci`: percentile bootstrap intervals over the test images, one
    draw picking the same images in the run's clean and corrupted sets and in its reference's
    (the sets are corruptions of one test split, so their errors are correlated); None where
    the sets are not of the same images, or the figure is undefined on the data or on some
    resamples (a reference without errors on a corruption)."""
    if not _paired(run, reference):
        return {"mce_ci": None, "relative_mce_ci": None}
    names = sorted(name for name in run.sets if parse_corrupted(name))
    if not names:
        return {"mce_ci": None, "relative_mce_ci": None}
    corruptions = sorted({parse_corrupted(name)[1] for name in names})
    groups = np.array([corruptions.index(parse_corrupted(name)[1]) for name in names])
    own = np.stack([run.sets[name].correct for name in names]).astype(np.float64)
    ref = np.stack([reference.sets[name].correct for name in names]).astype(np.float64)
    own_clean, ref_clean = run.clean.correct, reference.clean.correct

    def mce_of(i: np.ndarray) -> float:
        return corruption_ratio(1.0 - own[:, i].mean(axis=1), 1.0 - ref[:, i].mean(axis=1), groups)

    def relative_of(i: np.ndarray) -> float:
        own_loss = own_clean[i].mean() - own[:, i].mean(axis=1)  # E(c, s) - E(clean)
        ref_loss = ref_clean[i].mean() - ref[:, i].mean(axis=1)
        return corruption_ratio(own_loss, ref_loss, groups)

    n = len(run.clean)
    return {
        key: bootstrap_examples(statistic, n) if np.isfinite(statistic(np.arange(n))) else None
        for key, statistic in (("mce_ci", mce_of), ("relative_mce_ci", relative_of))
    }


def corrupted_long(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, corrupted set) from a runs table's `eval.{set}.acc|ece` columns: the
    run's identity, `corruption`, `severity`, `acc`, `ece`."""
    keys = [k for k in ("study", *CONFIG_KEYS, "seed", "status", "test_acc") if k in runs]
    frames = []
    for column in runs.columns:
        name = column.removeprefix("eval.").removesuffix(".acc")
        parsed = parse_corrupted(name) if column == f"eval.{name}.acc" else None
        if parsed is None:
            continue
        base, corruption, severity = parsed
        ece = runs.get(f"eval.{name}.ece", pd.Series(np.nan, index=runs.index))
        rows = runs[keys].assign(corruption=corruption, severity=severity, acc=runs[column])
        rows = rows.assign(ece=ece)[runs["dataset"] == base]
        frames.append(rows.dropna(subset=["acc"]))
    columns = [*keys, "corruption", "severity", "acc", "ece"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def _errors(sets: pd.DataFrame) -> dict[tuple[str, int], float]:
    return {(row.corruption, int(row.severity)): 1.0 - row.acc for row in sets.itertuples()}


def with_corruption_errors(runs: pd.DataFrame, reference: Mapping[str, Any]) -> pd.DataFrame:
    """`runs` with `mce` and `relative_mce` against each run's reference run (`reference`:
    the study's `eval_on_corrupted.reference`, {"model": name or None, "precision": name}), and
    their intervals `mce_ci` and `relative_mce_ci` from the two runs' predictions files
    (`mce_intervals`); NaN (intervals None) where a run or its reference has no complete
    corrupted evaluation. Unchanged without any corrupted set."""
    sets = corrupted_long(ok_runs(runs))
    if sets.empty:
        return runs
    match = [k for k in RUN_MATCH if k in runs]
    by_run = {key: group for key, group in sets.groupby([*match, "model", "precision"])}
    done = ok_runs(runs).set_index([*match, "model", "precision"])
    clean = done["test_acc"]
    values: dict[str, list[Any]] = {k: [] for k in ("mce", "relative_mce", *INTERVALS)}
    for row in runs.itertuples(index=False):
        own_key = (*(getattr(row, k) for k in match), row.model, row.precision)
        ref_model = reference.get("model") or row.model
        ref_key = (*(getattr(row, k) for k in match), ref_model, reference["precision"])
        if own_key not in by_run or ref_key not in by_run:
            for key, missing in (("mce", NAN), ("relative_mce", NAN), *INTERVALS.items()):
                values[key].append(missing)
            continue
        errors, ref_errors = _errors(by_run[own_key]), _errors(by_run[ref_key])
        values["mce"].append(mce(errors, ref_errors))
        values["relative_mce"].append(
            relative_mce(errors, 1.0 - clean[own_key], ref_errors, 1.0 - clean[ref_key])
        )
        intervals = _run_intervals(done, own_key, ref_key, row.dataset)
        for key in INTERVALS:
            values[key].append(intervals[key])
    return runs.assign(**values)


NAN = float("nan")
INTERVALS = {"mce_ci": None, "relative_mce_ci": None}


def _run_intervals(
    done: pd.DataFrame, own_key: tuple, ref_key: tuple, dataset: str
) -> dict[str, Any]:
    """`mce_intervals` of two ok runs (rows of `done`, indexed by run key) from their files."""
    paths = done["path"] if "path" in done else pd.Series(dtype=object)
    own_path, ref_path = paths.get(own_key), paths.get(ref_key)
    if not (isinstance(own_path, str) and isinstance(ref_path, str)):
        return dict(INTERVALS)
    own = read_corrupted_examples(own_path, dataset)
    ref = read_corrupted_examples(ref_path, dataset)
    return dict(INTERVALS) if own is None or ref is None else mce_intervals(own, ref)


NO_CORRUPTED_SETS = "_No corrupted test sets evaluated (study option eval_on_corrupted)._\n"
ROBUSTNESS_METRICS = (
    "test_acc",
    "corruption_acc",
    "corruption_ece",
    "mce",
    "relative_mce",
    "time_to_acc_s",
)


def robustness_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per configuration (mean over seeds): clean and mean corruption accuracy, ECE under
    corruption, mCE and relative mCE with their 95% intervals (`config_interval`),
    time-to-accuracy, then the accuracy per corruption (mean over severities)."""
    sets = corrupted_long(ok_runs(runs))
    keys = [k for k in ("study", *CONFIG_KEYS) if k in runs]
    if sets.empty:
        return pd.DataFrame(columns=keys)
    done = ok_runs(runs)
    present = [m for m in ROBUSTNESS_METRICS if m in done]
    grouped = done.groupby(keys, sort=True)
    table = grouped[present].mean()
    for metric in ("mce", "relative_mce"):
        if metric in done and f"{metric}_ci" in done:
            table[f"{metric}_ci"] = [
                config_interval(group[metric], group[f"{metric}_ci"]) for _, group in grouped
            ]
    per_corruption = sets.pivot_table(
        index=keys, columns="corruption", values="acc", aggfunc="mean"
    )
    order = [c for c in CORRUPTIONS if c in per_corruption.columns]
    per_corruption = per_corruption[order].add_prefix("acc_")
    table = table.join(per_corruption, how="inner").reset_index()
    return table.sort_values(keys, kind="stable").reset_index(drop=True)


def config_interval(values: pd.Series, intervals: pd.Series) -> list[float] | None:
    """A configuration's 95% interval of a per-run figure: one seed (or seeds that agree), the
    run's own bootstrap interval; several, the Student t interval over the seeds' values (as
    `significance.seed_interval` does for accuracy). None without a value or an interval."""
    from scipy import stats  # imported where used: it costs jobs without statistics 0.6 s

    finite = values.dropna()
    if len(finite) > 1 and np.ptp(finite) > 0:
        t = stats.ttest_1samp(finite.to_numpy(), 0.0).confidence_interval(LEVEL)
        return [float(t.low), float(t.high)]
    own = [v for v in map(as_interval, intervals) if v is not None]
    return own[0] if len(finite) >= 1 and own else None


def with_interval(value: float, interval: Any, digits: int = 2) -> str:
    """ "1.31 [1.10, 1.52]" (the value alone without an interval, "" without a value)."""
    if pd.isna(value):
        return ""
    interval = as_interval(interval)
    if not isinstance(interval, list):
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} [{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"


def robustness_markdown(table: pd.DataFrame) -> pd.DataFrame:
    """The robustness table for reading: mCE and relative mCE shown with their intervals."""
    shown = table.copy()
    for metric in ("mce", "relative_mce"):
        if f"{metric}_ci" in shown:
            shown[metric] = [
                with_interval(v, ci)
                for v, ci in zip(shown[metric], shown.pop(f"{metric}_ci"), strict=True)
            ]
    return shown
