"""Each study's findings in a few sentences, computed from its runs table.

A study's report section opens with these: what the source study found, restated with this
run's numbers, so a reader need not read it off the figures. Runs that did not learn (test
accuracy at most `DID_NOT_LEARN_FACTOR` times chance) are named as such and left out of every
comparison. Every accuracy is given with its 95% interval and every accuracy comparison with the
difference, its interval and, when the paired test cannot tell the two apart, "indistinguishable
at this test size (n = N)" (`analysis/significance.py`, on the runs' per-example predictions
files; Benjamini-Hochberg across one sentence's comparisons). Latency and inference-throughput
comparisons use the benchmark's bootstrap intervals: overlapping intervals are reported as
indistinguishable. Training throughput (one measurement per run) uses t intervals over seeds
where there are several; sizes are computed, and say they have no interval.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from tradeoffs import registry
from tradeoffs.analysis import noise_floor, robustness, significance
from tradeoffs.analysis.comparable import comparable_runs, refused_sentences
from tradeoffs.analysis.load import CONFIG_KEYS, HOST, not_finished, ok_runs
from tradeoffs.analysis.serving import serving_finding
from tradeoffs.intervals import LEVEL, as_interval, bootstrap_examples
from tradeoffs.records.predictions import ExamplePredictions, read_run

DID_NOT_LEARN_FACTOR = 1.5  # test accuracy at most 1.5 x chance: the run did not learn
REFERENCE_MODEL = "cnn"  # the binary study's full-precision baseline (seed 000)
REFERENCE_PRECISION = "fp32"


def chance_accuracy(runs: pd.DataFrame) -> pd.Series:
    """1 / number of classes, per run (NaN where the class count is unknown)."""
    return 1.0 / runs["num_classes"]


def did_not_learn(runs: pd.DataFrame) -> pd.Series:
    """True for an ok run whose test accuracy is at most 1.5 x chance; False otherwise (runs
    that did not finish are flagged by their status instead)."""
    ok = runs["status"] == "ok"
    low = runs["test_acc"] <= DID_NOT_LEARN_FACTOR * chance_accuracy(runs)
    return (ok & low.fillna(False)).astype(bool)


def _configs(runs: pd.DataFrame) -> pd.DataFrame:
    """Learned ok runs grouped by configuration: mean and std over seeds of the measures the
    findings quote, and the seed count."""
    runs = ok_runs(runs)
    runs = runs[~did_not_learn(runs)]
    keys = [k for k in CONFIG_KEYS if k in runs]
    measures = [
        m
        for m in (
            "test_acc",
            "est_footprint_mb",
            "size_mem_mb",
            "latency_ms_p50",
            "infer_throughput_sps",
            "train_throughput_sps",
        )
        if m in runs
    ]
    grouped = runs.groupby(keys, sort=False, dropna=False)
    table = grouped[measures].mean().join(grouped[measures].std().add_suffix("_std"))
    table = table.join(grouped.size().rename("n"))
    if "test_acc" in runs:
        test_n = _test_size(runs)
        bounds = grouped["test_acc"].apply(
            lambda accs: significance.seed_interval(accs.to_numpy(), test_n)
        )
        table["acc_lo"] = [lo for lo, _ in bounds]
        table["acc_hi"] = [hi for _, hi in bounds]
    table = table.reset_index()
    table["runs"] = [group.sort_values("seed") for _, group in grouped]
    return table


def _test_size(runs: pd.DataFrame) -> int:
    """Test examples of the study's own test split (the eval record's `n`)."""
    sizes = [
        runs[f"eval.{d}.n"].dropna() for d in runs["dataset"].unique() if f"eval.{d}.n" in runs
    ]
    values = pd.concat(sizes) if sizes else pd.Series(dtype=float)
    return int(values.max()) if len(values) else 0


def _acc(row: pd.Series) -> str:
    """The accuracy and its 95% interval: "0.92 [0.89, 0.95]" (over seeds with several)."""
    if pd.notna(row.get("acc_lo")):
        return f"{row['test_acc']:.2f} [{row['acc_lo']:.2f}, {row['acc_hi']:.2f}]"
    return f"{row['test_acc']:.2f}"


EXACT = "computed from the weights, not sampled: no interval"


def _with_ci(value: float, interval: list[float] | None, digits: int = 2) -> str:
    """ "0.92 [0.89, 0.95]", or the value and why it has no interval."""
    if interval is None:
        return f"{value:.{digits}f} (no interval: predictions missing)"
    return f"{value:.{digits}f} [{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"


def mean_interval(configs: pd.DataFrame) -> list[float] | None:
    """95% interval of the mean test accuracy of several `_configs` rows (e.g. every model in
    one format): a percentile bootstrap over the test examples of the mean over the rows of
    each row's accuracy (mean over its seeds), one draw picking the same examples in every run
    (`intervals.bootstrap_examples`). None when a run has no predictions file or the runs were
    not evaluated on one test set."""
    per_config = []
    for _, row in configs.iterrows():
        preds = [_predictions(run) for run in row["runs"].itertuples()]
        if not preds or any(p is None for p in preds):
            return None
        if any(not np.array_equal(p.label, preds[0].label) for p in preds):
            return None
        per_config.append(np.mean([p.correct for p in preds], axis=0))
    if not per_config or len({c.size for c in per_config}) != 1:
        return None
    correct = np.stack(per_config)
    return bootstrap_examples(lambda i: float(correct[:, i].mean()), correct.shape[1])


def _measured(row: pd.Series, column: str, unit: str) -> str:
    """ "0.08 ms [0.07, 0.09]" from the runs' bootstrap intervals (`{column}_ci`, the widest
    over the configuration's seeds), or the value and "no interval recorded"."""
    lo, hi = _interval(row, f"{column}_ci")
    value = f"{row[column]:.3g} {unit}"
    return f"{value} (no interval recorded)" if lo is None else f"{value} [{lo:.3g}, {hi:.3g}]"


def _predictions(run: Any) -> ExamplePredictions | None:
    """A run's per-example predictions on its own test split, None when it has none."""
    if not isinstance(getattr(run, "path", None), str):
        return None
    return read_run(run.path, run.dataset)


def compare_configs(a: pd.Series, b: pd.Series) -> significance.Comparison | None:
    """Paired comparison of two `_configs` rows (`compare_run_sets` of their runs)."""
    return compare_run_sets(a["runs"], b["runs"])


def compare_run_sets(a: pd.DataFrame, b: pd.DataFrame) -> significance.Comparison | None:
    """Paired comparison of two configurations' runs (rows of the runs table), matched by seed;
    None when they share no seed or a predictions file is missing."""
    seeds = sorted(set(a["seed"]) & set(b["seed"]))
    pairs = []
    for seed in seeds:
        pa = _predictions(next(a[a["seed"] == seed].itertuples()))
        pb = _predictions(next(b[b["seed"] == seed].itertuples()))
        if pa is None or pb is None:
            return None
        pairs.append((pa, pb))
    if not pairs:
        return None
    try:
        return significance.compare_seeds(pairs)
    except significance.NotPairedError:
        return None


def _versus(a: pd.Series, b: pd.Series, comparison: significance.Comparison | None) -> str:
    """ "a against b: +0.031 [-0.005, +0.067]" with the verdict, or the plain difference when
    the runs have no predictions files to pair."""
    if comparison is None:
        return f"{a['test_acc'] - b['test_acc']:+.3f} (no paired test: predictions missing)"
    return significance.describe(comparison)


def _versus_intervals(best: pd.Series, worst: pd.Series, column: str, higher: bool) -> str:
    """The verdict on two configurations' bootstrap intervals of `column`: overlapping ones
    are indistinguishable, disjoint ones differ; "" when either has no interval."""
    lo_best, hi_best = _interval(best, f"{column}_ci")
    lo_worst, hi_worst = _interval(worst, f"{column}_ci")
    if None in (lo_best, lo_worst):  # the values already say they have no interval
        return ""
    overlap = lo_best <= hi_worst if higher else hi_best >= lo_worst
    if overlap:
        return " (bootstrap intervals overlap: indistinguishable)"
    return " (bootstrap intervals disjoint)"


def _seed_spread(best: pd.Series, worst: pd.Series, column: str) -> str:
    """Training throughput is one measurement per run: with several seeds each, the Student t
    intervals over the seeds and whether they overlap; with one, that nothing tests it."""
    from scipy import stats  # imported where used: it costs jobs without statistics 0.6 s

    bounds = []
    for row in (best, worst):
        values = row["runs"][column].dropna().to_numpy(dtype=float)
        if len(values) < 2:
            return " (one training run each: no interval, compare with the noise floor)"
        t = stats.ttest_1samp(values, 0.0).confidence_interval(LEVEL)
        bounds.append((float(t.low), float(t.high)))
    (lo_best, _), (_, hi_worst) = bounds
    verdict = "overlap: indistinguishable" if lo_best <= hi_worst else "disjoint"
    shown = "; ".join(f"[{lo:.3g}, {hi:.3g}]" for lo, hi in bounds)
    return f" (t intervals over seeds {shown}, {verdict})"


def _interval(row: pd.Series, key: str) -> tuple[float | None, float | None]:
    """The widest [lo, hi] of `key` over a configuration's runs."""
    cells = row["runs"].get(key, pd.Series(dtype=object))
    values = [v for v in map(as_interval, cells) if v is not None]
    if not values:
        return None, None
    return min(v[0] for v in values), max(v[1] for v in values)


def _ratio(part: float, whole: float) -> str:
    """`part` as a fraction of `whole`, worded as 1/N when smaller."""
    if not (part > 0 and whole > 0):
        return "an unknown fraction"
    return f"1/{whole / part:.0f}" if part < whole / 1.5 else f"{part / whole:.2f}x"


def _size(row: pd.Series) -> float:
    """The deployed size (weights at their stored bits), else the in-memory size."""
    value = row.get("est_footprint_mb")
    return value if pd.notna(value) else row.get("size_mem_mb")


def _label(row: pd.Series, keys: list[str]) -> str:
    return "/".join(str(row[k]) for k in keys)


def _varying(table: pd.DataFrame) -> list[str]:
    return [k for k in CONFIG_KEYS if k in table and table[k].nunique() > 1] or ["model"]


def not_learned_sentence(runs: pd.DataFrame) -> str | None:
    """Names the runs that did not learn, or None when every ok run learned."""
    flagged = runs[did_not_learn(runs)]
    if flagged.empty:
        return None
    keys = _varying(runs)
    names = ", ".join(dict.fromkeys(_label(row, keys) for _, row in flagged.iterrows()))
    return (
        f"Did not learn (test accuracy at most {DID_NOT_LEARN_FACTOR}x chance), left out of the "
        f"comparisons: {names}."
    )


def reference_comparisons(
    table: pd.DataFrame,
) -> list[tuple[pd.Series, significance.Comparison | None]]:
    """Each configuration of a `_configs` table not in fp32 against the fp32 configuration
    that differs from it only in the format, paired over examples and seeds, Benjamini-Hochberg
    adjusted over every such comparison of the table: one family, so the findings and the
    heat map's "≈ fp32" marks make the same decision. None where there is no fp32 run or no
    predictions file to pair."""
    keys = [k for k in CONFIG_KEYS if k in table and k != "precision"]
    references = {
        tuple(row[k] for k in keys): row
        for _, row in table[table["precision"] == REFERENCE_PRECISION].iterrows()
    }
    pairs = []
    for _, row in table[table["precision"] != REFERENCE_PRECISION].iterrows():
        reference = references.get(tuple(row[k] for k in keys))
        if reference is not None:
            pairs.append((row, compare_configs(row, reference)))
    adjusted = iter(significance.adjust([c for _, c in pairs if c is not None]))
    return [(row, c if c is None else next(adjusted)) for row, c in pairs]


def tied_with_reference(runs: pd.DataFrame, keys: list[str]) -> set[tuple]:
    """The `keys` values (e.g. dataset, act, model, precision) of the configurations the
    precision findings call indistinguishable from fp32 (`reference_comparisons` over the
    runs the findings compare); a group with several configurations needs all of them tied."""
    tested: dict[tuple, list[bool]] = {}
    for row, comparison in reference_comparisons(_configs(comparable_runs(runs))):
        if comparison is not None:
            cell = tuple(row[k] for k in keys)
            tested.setdefault(cell, []).append(not comparison.distinguishable)
    return {cell for cell, ties in tested.items() if all(ties)}


def _format_comparisons(table: pd.DataFrame, order: list[str]) -> list[str]:
    """Per format, each model's accuracy against its fp32 run (`reference_comparisons`)."""
    if REFERENCE_PRECISION not in order:
        return []
    keys = _varying(table)
    pairs = [(row, c) for row, c in reference_comparisons(table) if c is not None]
    shown = [k for k in keys if k != "precision"] or ["model"]
    sentences = []
    for precision in order:
        parts = [
            f"{_label(row, shown)} {significance.describe(c)}"
            for row, c in pairs
            if row["precision"] == precision
        ]
        if parts:
            sentences.append(
                f"{precision} against {REFERENCE_PRECISION}, accuracy difference [95% interval] "
                f"per model: {'; '.join(parts)}."
            )
    return sentences


def precision_findings(runs: pd.DataFrame) -> list[str]:
    """Seed 002: accuracy as the number format narrows, averaged over the architectures, and
    each format against fp32 per model (paired)."""
    table = _configs(runs)
    if table.empty or "precision" not in table:
        return []
    order = sorted(table["precision"].unique(), key=lambda p: -registry.PRECISION_BITS[p])
    # Means over the same models in every format, else a format losing a weak model would
    # look better than one keeping it.
    formats = table.groupby("model")["precision"].nunique()
    common = formats[formats == len(order)].index
    compared = table[table["model"].isin(common)] if len(common) else table
    mean = compared.groupby("precision")["test_acc"].mean().reindex(order)
    models = ", ".join(sorted(compared["model"].unique()))
    steps = ", ".join(
        f"{p} {_with_ci(mean[p], mean_interval(compared[compared['precision'] == p]))}"
        for p in order
    )
    sentences = [
        f"Mean test accuracy by format ({models}, learned in every format) [95% interval over "
        f"the test examples]: {steps}."
    ]
    sentences += _format_comparisons(table, order)
    if REFERENCE_PRECISION in order and "est_footprint_mb" in compared:
        sizes = compared.groupby("precision")["est_footprint_mb"].mean()
        low = order[-1]
        sentences.append(
            f"{low} weights take {_ratio(sizes[low], sizes[REFERENCE_PRECISION])} of "
            f"{REFERENCE_PRECISION}'s deployed footprint (mean over models; {EXACT})."
        )
    return sentences


def binary_findings(runs: pd.DataFrame) -> list[str]:
    """Seed 000: how much of the full-precision CNN's accuracy the binarised networks keep, at
    what fraction of its deployed size."""
    table = _configs(runs)
    if table.empty or REFERENCE_MODEL not in set(table["model"]):
        return []
    reference = table[table["model"] == REFERENCE_MODEL].iloc[0]
    others = [row for _, row in table[table["model"] != REFERENCE_MODEL].iterrows()]
    found = [compare_configs(row, reference) for row in others]
    adjusted = iter(significance.adjust([c for c in found if c is not None]))
    sentences = []
    for row, comparison in zip(others, found, strict=True):
        comparison = None if comparison is None else next(adjusted)
        kept = row["test_acc"] / reference["test_acc"]
        sentences.append(
            f"{row['model']} keeps {kept:.2f} of {REFERENCE_MODEL}'s {_acc(reference)} accuracy "
            f"({_acc(row)}; difference {_versus(row, reference, comparison)}) at "
            f"{_ratio(_size(row), _size(reference))} of its deployed size "
            f"({_size(row):.3g} MB against {_size(reference):.3g} MB)."
        )
    return sentences


def backends_findings(runs: pd.DataFrame) -> list[str]:
    """Seed 004: one network, several implementations (on one machine or several): same
    accuracy, different speed."""
    table = _configs(runs)
    if len(table) < 2 or "backend" not in table:
        return []
    keys = _varying(table)  # the backend, and the host when several machines ran it
    reference = table.iloc[0]
    others = [row for _, row in table.iloc[1:].iterrows()]
    found = [compare_configs(row, reference) for row in others]
    adjusted = iter(significance.adjust([c for c in found if c is not None]))
    each = ", ".join(f"{_label(r, keys)} {_acc(r)}" for _, r in table.iterrows())
    sentences = [f"Accuracy of the {len(table)} backends that ran: {each}."]
    for row, comparison in zip(others, found, strict=True):
        comparison = None if comparison is None else next(adjusted)
        sentences.append(
            f"{_label(row, keys)} against {_label(reference, keys)}: accuracy difference "
            f"{_versus(row, reference, comparison)}."
        )
    for column, what, higher, unit in (
        ("train_throughput_sps", "training throughput", True, "samples/s"),
        ("latency_ms_p50", "single-image latency (p50)", False, "ms"),
        ("infer_throughput_sps", "inference throughput", True, "samples/s"),
    ):
        if column not in table or table[column].isna().all():
            continue
        ranked = table.dropna(subset=[column]).sort_values(column, ascending=not higher)
        best, worst = ranked.iloc[0], ranked.iloc[-1]
        factor = best[column] / worst[column] if higher else worst[column] / best[column]
        if column == "train_throughput_sps":
            shown = [f"{row[column]:.3g} {unit}" for row in (best, worst)]
            note = _seed_spread(best, worst, column)
        else:
            shown = [_measured(row, column, unit) for row in (best, worst)]
            note = _versus_intervals(best, worst, column, higher)
        sentences.append(
            f"Fastest {what}: {_label(best, keys)} ({shown[0]}), {factor:.2f}x "
            f"{_label(worst, keys)} ({shown[1]}){note}."
        )
    return sentences


def ranking_findings(runs: pd.DataFrame) -> list[str]:
    """Seeds 001 and 003, and any study we do not know: configurations ranked by accuracy and
    by cost."""
    table = _configs(runs)
    if table.empty:
        return []
    keys = _varying(table)
    by_acc = table.sort_values("test_acc", ascending=False)
    ranked = ", ".join(f"{_label(r, keys)} {_acc(r)}" for _, r in by_acc.iterrows())
    sentences = [f"By test accuracy: {ranked}."]
    if len(by_acc) > 1:
        first, second = by_acc.iloc[0], by_acc.iloc[1]
        sentences.append(
            f"{_label(first, keys)} against {_label(second, keys)}: accuracy difference "
            f"{_versus(first, second, compare_configs(first, second))}."
        )
    for column, what, unit in (
        ("latency_ms_p50", "single-image latency (p50)", "ms"),
        ("est_footprint_mb", "deployed size", "MB"),
    ):
        if column in table and table[column].notna().any():
            cheap = table.dropna(subset=[column]).sort_values(column)
            if column == "latency_ms_p50":
                ranked = ", ".join(
                    f"{_label(r, keys)} {_measured(r, column, unit)}" for _, r in cheap.iterrows()
                )
                what += " [95% bootstrap interval]"
                note = ""
                if len(cheap) > 1:
                    verdict = _versus_intervals(cheap.iloc[0], cheap.iloc[1], column, False)
                    note = f"; the two fastest{verdict}"
            else:
                ranked = ", ".join(
                    f"{_label(r, keys)} {r[column]:.3g} {unit}" for _, r in cheap.iterrows()
                )
                note = f" ({EXACT})"
            sentences.append(f"By {what}, cheapest first: {ranked}{note}.")
    return sentences


def _pretrainable(model: str) -> bool:
    """A Keras application (its input size and weights come from the `transfer:` section)."""
    impl = registry.MODELS.get(model, {}).get("keras")
    return impl is not None and impl.input_shape is None


def conditions_sentence(config: Mapping[str, Any] | None) -> str | None:
    """What in the study's config changes what its comparisons mean: networks trained from
    scratch in a transfer study (`transfer.weights: none`), truncated training sets
    (`limit_train`), narrowed networks (`model_options`). None when nothing does."""
    if not config:
        return None
    parts = []
    models = config.get("models", [])
    transfer = config.get("transfer") or {}
    keras = any(registry.BACKENDS[b].framework == "keras" for b in config.get("backends", []))
    if transfer.get("weights") == "none" and keras and any(map(_pretrainable, models)):
        parts.append(
            "no pretrained weights (transfer.weights: none): every network is trained from "
            "scratch, so this compares architectures, not transfer learning"
        )
    limits = {"": (config.get("train") or {}).get("limit_train")}
    for model, recipe in (config.get("train_by_model") or {}).items():
        if "limit_train" in recipe:
            limits[model] = recipe["limit_train"]
    cut = [
        f"{model + ' ' if model else ''}{'all' if n is None else n}" for model, n in limits.items()
    ]
    if any(n is not None for n in limits.values()):
        parts.append(f"truncated training sets (limit_train: {', '.join(cut)} images)")
    narrowed = config.get("model_options") or {}
    if narrowed:
        shown = "; ".join(
            f"{model} {', '.join(f'{k} {v}' for k, v in options.items())}"
            for model, options in narrowed.items()
        )
        parts.append(f"narrowed networks, not the published ones (model_options: {shown})")
    if not parts:
        return None
    return "Conditions: " + "; ".join(parts) + "."


def robustness_sentences(runs: pd.DataFrame) -> list[str]:
    """mCE and relative mCE per configuration with their 95% intervals (`analysis.robustness`),
    each said to be indistinguishable from the reference's 1 when its interval holds 1."""
    if "mce" not in runs:
        return []
    table = robustness.robustness_table(runs)
    if table.empty or table["mce"].isna().all():
        return []
    keys = _varying(table)
    n = _test_size(runs)
    intervals = table["mce_ci"] if "mce_ci" in table else pd.Series(None, index=table.index)
    reference = (table["mce"] == 1.0) & intervals.map(lambda ci: ci == [1.0, 1.0])
    order = {p: -bits for p, bits in registry.PRECISION_BITS.items()}
    table = table.assign(_order=table["precision"].map(order), _reference=reference)
    table = table.sort_values(["_order", *keys], kind="stable")
    sentences = []
    for metric, what in (("mce", "mCE"), ("relative_mce", "Relative mCE")):
        rows = table.dropna(subset=[metric])
        parts = []
        for _, row in rows.iterrows():
            interval = row.get(f"{metric}_ci")
            text = f"{_label(row, keys)} {robustness.with_interval(row[metric], interval)}"
            if row["_reference"]:
                text += " (the reference)"
            elif not isinstance(interval, list):
                text += (
                    " (no interval: a predictions file is missing, or the reference's errors "
                    "vanish on some resamples)"
                )
            elif interval[0] <= 1.0 <= interval[1]:
                text += f" (indistinguishable from the reference at this test size, n = {n})"
            parts.append(text)
        if parts:
            sentences.append(
                f"{what} against each run's reference (1 = as robust; above 1 less robust) "
                f"[95% interval]: {'; '.join(parts)}."
            )
    return sentences


def target_sentence(runs: pd.DataFrame, target: float | None) -> str | None:
    """Which runs meet the accuracy target and which do not, with their bounds."""
    if target is None or "acc_ratio" not in runs:
        return None
    tested = runs[runs["acc_ratio"].notna()]
    if tested.empty:
        return None
    keys = [
        k
        for k in ("model", "precision", "backend", "seed", "host")
        if k in tested and runs[k].nunique() > 1
    ] or ["model"]

    return (
        f"Accuracy target {target:g} of the reference's accuracy (ratio, one-sided 95% lower "
        f"bound paired over examples): {target_verdicts(tested, keys)}."
    )


def target_verdicts(tested: pd.DataFrame, keys: list[str]) -> str:
    """ "met by A 0.990 (≥ 0.970), ...; not met by ...": the tested rows (`acc_ratio`,
    `acc_ratio_lo`, `meets_target`) named by their `keys` values joined with '/'."""

    def named(rows: pd.DataFrame) -> str:
        return ", ".join(
            f"{'/'.join(str(r[k]) for k in keys)} {r['acc_ratio']:.3f} (≥ {r['acc_ratio_lo']:.3f})"
            for _, r in rows.iterrows()
        )

    met = tested[tested["meets_target"] == True]  # noqa: E712 (object column: True/False)
    missed = tested[tested["meets_target"] != True]  # noqa: E712
    parts = [f"met by {named(met)}" if len(met) else "met by none"]
    if len(missed):
        parts.append(f"not met by {named(missed)}")
    return "; ".join(parts)


STUDY_FINDINGS: dict[str, Callable[[pd.DataFrame], list[str]]] = {
    "precision": precision_findings,
    "precision_seeds": precision_findings,  # config.yaml: the headline comparison, 3 seeds
    "binary": binary_findings,
    "backends": backends_findings,
}


def findings(
    study: str,
    runs: pd.DataFrame,
    serving: pd.DataFrame | None = None,
    config: Mapping[str, Any] | None = None,
    noise: Mapping[str, Any] | None = None,
) -> list[str]:
    """The study's findings as sentences: the conditions that bound them (`config`, the study's
    settings), its seed's comparison (the ranking for a study we do not know) over the runs
    that compare across machines, which runs meet the study's `accuracy_target`, serving under
    load (`serving`: the study's serving table, if it serves), the machines, the pairs of
    machines not compared and why, then the runs that did not learn and the runs that did not
    finish. The machine's noise floor follows the last latency sentence (`noise`: the last
    `benchmarks/noise_floor.py` measurement, `analysis.noise_floor.measurement`)."""
    sentences = STUDY_FINDINGS.get(study, ranking_findings)(comparable_runs(runs))
    if not sentences:
        sentences = ["Nothing to compare: fewer than two runs finished and learned."]
    latency = [i for i, s in enumerate(sentences) if "latency" in s]
    if latency:
        sentences.insert(latency[-1] + 1, noise_floor.noise_sentence(runs, noise))
    conditions = conditions_sentence(config)
    if conditions:
        sentences.insert(0, conditions)
    sentences += robustness_sentences(runs)
    target = target_sentence(runs, (config or {}).get("accuracy_target"))
    if target:
        sentences.append(target)
    served = serving_finding(serving) if serving is not None else None
    if served:
        sentences.append(served)
    sentences += machine_sentences(runs) + refused_sentences(runs)
    flagged = not_learned_sentence(runs)
    if flagged:
        sentences.append(flagged)
    missing = not_finished(runs)
    if missing:
        sentences.append(f"Not run: {missing}.")
    return sentences


FINGERPRINT = "provenance.fingerprint."


def describe_machine(row: pd.Series) -> str:
    """A host in a few words: CPU model, cores, memory, widest vector extension, GPUs."""
    cpu = row.get(f"{FINGERPRINT}cpu_model") or row.get("provenance.cpu") or "unknown CPU"
    parts = [str(cpu)]
    cores, memory = row.get(f"{FINGERPRINT}logical_cores"), row.get(f"{FINGERPRINT}memory_gib")
    if pd.notna(cores):
        parts.append(f"{int(cores)} logical cores")
    if pd.notna(memory):
        parts.append(f"{memory:g} GiB")
    vector = row.get(f"{FINGERPRINT}vector_extensions")
    if isinstance(vector, list):
        widest = [v for v in ("amx_tile", "avx512f", "avx2", "sve", "asimd") if v in vector]
        parts += widest[:1]
    gpus = row.get(f"{FINGERPRINT}accelerators")
    if isinstance(gpus, list) and gpus:
        parts += [str(g.get("model")) for g in gpus if isinstance(g, dict)]
    return ", ".join(parts)


def machine_sentences(runs: pd.DataFrame) -> list[str]:
    """Which machine measured what: one sentence naming every host of the study."""
    if HOST not in runs or runs[HOST].dropna().empty:
        return []
    machines = [
        f"{host} ({describe_machine(group.iloc[0])})"
        for host, group in runs.dropna(subset=[HOST]).groupby(HOST, sort=True)
    ]
    return [f"Measured on {'; '.join(machines)}."]


def findings_markdown(study: str, sentences: list[str]) -> str:
    """The study's findings (`findings`' sentences) as findings.md."""
    lines = "\n".join(f"- {sentence}" for sentence in sentences)
    return f"# {study}: findings\n\n{lines}\n"


def findings_html(study: str, sentences: list[str]) -> str:
    """The findings (`findings`' sentences) as a small HTML page, for the Snakemake report."""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    return f"<html><body><h3>{html.escape(study)}: findings</h3><ul>{items}</ul></body></html>\n"
