"""Each study's findings in a few sentences, computed from its runs table.

A study's report section opens with these: what the source study found, restated with this
run's numbers, so a reader need not read it off the figures. Runs that did not learn (test
accuracy at most `DID_NOT_LEARN_FACTOR` times chance) are named as such and left out of every
comparison; where a configuration has several seeds, a difference is called real only when it
exceeds the seeds' spread (the sum of the two standard deviations).
"""

from __future__ import annotations

import html
from collections.abc import Callable

import pandas as pd

from tradeoffs import registry
from tradeoffs.analysis.comparable import comparable_runs, refused_sentences
from tradeoffs.analysis.load import CONFIG_KEYS, HOST, not_finished, ok_runs
from tradeoffs.analysis.serving import serving_finding

DID_NOT_LEARN_FACTOR = 1.5  # test accuracy at most 1.5 x chance: the run did not learn
REFERENCE_MODEL = "cnn"  # the binary study's full-precision baseline (seed 000)
REFERENCE_PRECISION = "fp32"
AGREEMENT = 0.02  # backends whose accuracies differ by at most this agree


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
    grouped = runs.groupby(keys, sort=False, dropna=False)[measures]
    table = grouped.mean().join(grouped.std().add_suffix("_std")).join(grouped.size().rename("n"))
    return table.reset_index()


def _acc(row: pd.Series) -> str:
    std = row.get("test_acc_std")
    spread = f" ± {std:.2f}" if row["n"] > 1 and pd.notna(std) else ""
    return f"{row['test_acc']:.2f}{spread}"


def _spread_note(a: pd.Series, b: pd.Series) -> str:
    """Whether the accuracy difference of two configurations exceeds their seeds' spread."""
    if min(a["n"], b["n"]) < 2:
        return ""
    spread = a["test_acc_std"] + b["test_acc_std"]
    exceeds = abs(a["test_acc"] - b["test_acc"]) > spread
    word = "exceeds" if exceeds else "is within"
    return f" (the difference {word} the seeds' spread of {spread:.2f})"


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


def precision_findings(runs: pd.DataFrame) -> list[str]:
    """Seed 002: accuracy as the number format narrows, averaged over the architectures."""
    table = _configs(runs)
    if table.empty or "precision" not in table:
        return []
    order = sorted(table["precision"].unique(), key=lambda p: -registry.PRECISION_BITS[p])
    # Means over the same models in every format, else a format losing a weak model would
    # look better than one keeping it.
    formats = table.groupby("model")["precision"].nunique()
    common = formats[formats == len(order)].index
    if len(common):
        table = table[table["model"].isin(common)]
    mean = table.groupby("precision")["test_acc"].mean().reindex(order)
    models = ", ".join(sorted(table["model"].unique()))
    steps = ", ".join(f"{p} {mean[p]:.2f}" for p in order)
    sentences = [f"Mean test accuracy by format ({models}, learned in every format): {steps}."]
    falls = all(a >= b - 0.01 for a, b in zip(mean, mean.iloc[1:], strict=False))
    if len(order) > 1:
        verdict = "falls" if falls else "does not fall steadily"
        sentences.append(
            f"Accuracy {verdict} as bits drop: {order[0]} {mean.iloc[0]:.2f} to "
            f"{order[-1]} {mean.iloc[-1]:.2f}."
        )
    if REFERENCE_PRECISION in order and "est_footprint_mb" in table:
        sizes = table.groupby("precision")["est_footprint_mb"].mean()
        low = order[-1]
        sentences.append(
            f"{low} weights take {_ratio(sizes[low], sizes[REFERENCE_PRECISION])} of "
            f"{REFERENCE_PRECISION}'s deployed footprint (mean over models)."
        )
    return sentences


def binary_findings(runs: pd.DataFrame) -> list[str]:
    """Seed 000: how much of the full-precision CNN's accuracy the binarised networks keep, at
    what fraction of its deployed size."""
    table = _configs(runs)
    if table.empty or REFERENCE_MODEL not in set(table["model"]):
        return []
    reference = table[table["model"] == REFERENCE_MODEL].iloc[0]
    sentences = []
    for _, row in table[table["model"] != REFERENCE_MODEL].iterrows():
        kept = row["test_acc"] / reference["test_acc"]
        sentences.append(
            f"{row['model']} keeps {kept:.2f} of {REFERENCE_MODEL}'s {_acc(reference)} accuracy "
            f"({_acc(row)}) at {_ratio(_size(row), _size(reference))} of its deployed size "
            f"({_size(row):.3g} MB against {_size(reference):.3g} MB)"
            f"{_spread_note(row, reference)}."
        )
    return sentences


def backends_findings(runs: pd.DataFrame) -> list[str]:
    """Seed 004: one network, several implementations (on one machine or several): same
    accuracy, different speed."""
    table = _configs(runs)
    if len(table) < 2 or "backend" not in table:
        return []
    keys = _varying(table)  # the backend, and the host when several machines ran it
    lo, hi = table.loc[table["test_acc"].idxmin()], table.loc[table["test_acc"].idxmax()]
    gap = hi["test_acc"] - lo["test_acc"]
    agree = f"agree (within {AGREEMENT})" if gap <= AGREEMENT else "differ"
    each = ", ".join(f"{_label(r, keys)} {_acc(r)}" for _, r in table.iterrows())
    sentences = [
        f"Accuracy of the {len(table)} backends that ran {agree}: {each}{_spread_note(hi, lo)}."
    ]
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
        sentences.append(
            f"Fastest {what}: {_label(best, keys)} ({best[column]:.3g} {unit}), {factor:.2f}x "
            f"{_label(worst, keys)} ({worst[column]:.3g} {unit})."
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
        note = _spread_note(first, second)
        if note:
            sentences.append(
                f"{_label(first, keys)} against {_label(second, keys)}: "
                f"{first['test_acc'] - second['test_acc']:+.3f}{note}."
            )
    for column, what, unit in (
        ("latency_ms_p50", "single-image latency (p50)", "ms"),
        ("est_footprint_mb", "deployed size", "MB"),
    ):
        if column in table and table[column].notna().any():
            cheap = table.dropna(subset=[column]).sort_values(column)
            ranked = ", ".join(
                f"{_label(r, keys)} {r[column]:.3g} {unit}" for _, r in cheap.iterrows()
            )
            sentences.append(f"By {what}, cheapest first: {ranked}.")
    return sentences


STUDY_FINDINGS: dict[str, Callable[[pd.DataFrame], list[str]]] = {
    "precision": precision_findings,
    "binary": binary_findings,
    "backends": backends_findings,
}


def findings(study: str, runs: pd.DataFrame, serving: pd.DataFrame | None = None) -> list[str]:
    """The study's findings as sentences: its seed's comparison (the ranking for a study we do
    not know) over the runs that compare across machines, serving under load (`serving`: the
    study's serving table, if it serves), the machines, the pairs of machines not compared and
    why, then the runs that did not learn and the runs that did not finish."""
    sentences = STUDY_FINDINGS.get(study, ranking_findings)(comparable_runs(runs))
    if not sentences:
        sentences = ["Nothing to compare: fewer than two runs finished and learned."]
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


def findings_markdown(study: str, runs: pd.DataFrame, serving: pd.DataFrame | None = None) -> str:
    lines = "\n".join(f"- {sentence}" for sentence in findings(study, runs, serving))
    return f"# {study}: findings\n\n{lines}\n"


def findings_html(study: str, runs: pd.DataFrame, serving: pd.DataFrame | None = None) -> str:
    """The findings as a small HTML page, for the Snakemake report."""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in findings(study, runs, serving))
    return f"<html><body><h3>{html.escape(study)}: findings</h3><ul>{items}</ul></body></html>\n"
