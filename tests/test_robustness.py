"""Accuracy under corruption in the records: mCE and relative mCE by hand, the tables, figures,
time-to-accuracy, and the config checks of `eval_on_corrupted`."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats
from test_analysis_figures import _assert_png
from test_analysis_records import write_run

from tradeoffs.analysis import findings, robustness
from tradeoffs.analysis.aggregate import comparison_table, summary_table
from tradeoffs.analysis.figures import figures_for
from tradeoffs.analysis.figures.draw import draw
from tradeoffs.analysis.figures.robustness import accuracy_vs_severity
from tradeoffs.analysis.load import read_metrics
from tradeoffs.analysis.robustness import CorruptedExamples
from tradeoffs.analysis.time_to_accuracy import time_to_accuracy
from tradeoffs.config import ConfigError, check_config
from tradeoffs.corrupted_sets import corrupted_sets
from tradeoffs.identity import RunId as Run
from tradeoffs.records.metrics import merge_metrics
from tradeoffs.records.predictions import (
    CORRUPTED_FILE,
    SUFFIX,
    ExamplePredictions,
    write,
    write_sets,
)
from tradeoffs.runspec import RunSpec

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schemas" / "config.schema.yaml"

# Hand-made accuracies on two corruptions at two severities: (clean, {(c, s): acc}).
REFERENCE = (
    0.90,
    {("fog", 1): 0.80, ("fog", 5): 0.60, ("contrast", 1): 0.70, ("contrast", 5): 0.50},
)
QUANTISED = (
    0.85,
    {("fog", 1): 0.70, ("fog", 5): 0.40, ("contrast", 1): 0.65, ("contrast", 5): 0.45},
)


def errors(accs: dict) -> dict:
    return {key: 1 - acc for key, acc in accs.items()}


def test_mce_equals_a_hand_computation() -> None:
    # fog: (0.30 + 0.60) / (0.20 + 0.40) = 1.5; contrast: (0.35 + 0.55) / (0.30 + 0.50) = 1.125
    assert robustness.mce(errors(QUANTISED[1]), errors(REFERENCE[1])) == pytest.approx(1.3125)
    # relative, clean errors 0.15 and 0.10: fog (0.15 + 0.45) / (0.10 + 0.30) = 1.5;
    # contrast (0.20 + 0.40) / (0.20 + 0.40) = 1.0
    relative = robustness.relative_mce(errors(QUANTISED[1]), 0.15, errors(REFERENCE[1]), 0.10)
    assert relative == pytest.approx(1.25)
    assert robustness.mce(errors(REFERENCE[1]), errors(REFERENCE[1])) == pytest.approx(1.0)


def test_mce_is_undefined_without_reference_errors_or_matching_sets() -> None:
    perfect = {("fog", 1): 0.0, ("fog", 5): 0.0}
    assert math.isnan(robustness.mce({("fog", 1): 0.1, ("fog", 5): 0.2}, perfect))
    assert math.isnan(robustness.mce({("fog", 1): 0.1}, errors(REFERENCE[1])))


def corrupted_run(root: Path, run: Run, clean: float, accs: dict, **values) -> Path:
    evals = {run.dataset: {"acc": clean, "n": 100}}
    for (corruption, severity), acc in accs.items():
        evals[f"{run.dataset}-c-{corruption}-{severity}"] = {"acc": acc, "ece": 0.1, "n": 100}
    summary = robustness.corruption_summary(evals)
    return write_run(root, run, test_acc=clean, eval=evals, **summary, **values)


@pytest.fixture
def precision_runs(tmp_path: Path) -> pd.DataFrame:
    paths = [
        corrupted_run(tmp_path, Run("precision", "digits", "cnn", "relu", p, "torch-cpu", 0), *r)
        for p, r in (("fp32", REFERENCE), ("fp4", QUANTISED))
    ]
    # A run without corrupted sets, and a failed one.
    paths.append(
        write_run(tmp_path, Run("precision", "digits", "gcn", "relu", "fp32", "torch-cpu", 0))
    )
    paths.append(
        write_run(
            tmp_path, Run("precision", "digits", "cnn", "relu", "fp2", "torch-cpu", 0), "failed"
        )
    )
    return read_metrics(paths)


def test_dataset_names_with_dots_are_read(tmp_path: Path) -> None:
    run = Run("precision", "my.data", "cnn", "relu", "fp32", "torch-cpu", 0)
    sets = robustness.corrupted_long(read_metrics([corrupted_run(tmp_path, run, *REFERENCE)]))
    assert sorted(zip(sets["corruption"], sets["severity"], strict=True)) == sorted(REFERENCE[1])


def test_run_summary_is_the_mean_over_corrupted_sets() -> None:
    evals = {"digits": {"acc": 0.9, "ece": 0.05}, "digits-c-fog-1": {"acc": 0.6, "ece": 0.1}}
    evals["digits-c-fog-5"] = {"acc": 0.4, "ece": 0.3}
    summary = robustness.corruption_summary(evals)
    assert summary == {"corruption_acc": 0.5, "corruption_ece": 0.2, "corruption_sets": 2}
    assert robustness.corruption_summary({"digits": {"acc": 0.9}}) == {}
    skipped = robustness.corruption_summary({"digits-c-fog-1": {"status": "skipped", "acc": None}})
    assert skipped["corruption_acc"] is None


def test_table_mce_against_the_fp32_run(precision_runs: pd.DataFrame) -> None:
    runs = robustness.with_corruption_errors(precision_runs, {"model": None, "precision": "fp32"})
    by_precision = runs[runs["model"] == "cnn"].set_index("precision")
    assert by_precision.loc["fp32", "mce"] == pytest.approx(1.0)
    assert by_precision.loc["fp4", "mce"] == pytest.approx(1.3125)
    assert by_precision.loc["fp4", "relative_mce"] == pytest.approx(1.25)
    assert math.isnan(by_precision.loc["fp2", "mce"])  # failed
    assert runs.loc[runs["model"] == "gcn", "mce"].isna().all()  # no corrupted sets
    summary = summary_table(runs)
    assert "mce_mean" in summary and "corruption_acc_mean" in summary


def test_reference_model_for_a_study_without_formats(tmp_path: Path) -> None:
    paths = [
        corrupted_run(tmp_path, Run("binary", "digits", m, "relu", "fp32", "keras-cpu", 0), *r)
        for m, r in (("cnn", REFERENCE), ("bnn", QUANTISED))
    ]
    runs = robustness.with_corruption_errors(
        read_metrics(paths), {"model": "cnn", "precision": "fp32"}
    )
    assert runs.set_index("model").loc["bnn", "mce"] == pytest.approx(1.3125)


def test_robustness_table_lists_accuracy_per_corruption(precision_runs: pd.DataFrame) -> None:
    runs = robustness.with_corruption_errors(precision_runs, {"model": None, "precision": "fp32"})
    table = robustness.robustness_table(runs).set_index("precision")
    assert list(table.index) == ["fp32", "fp4"]  # the runs with corrupted sets
    assert table.loc["fp4", "corruption_acc"] == pytest.approx(0.55)
    assert table.loc["fp4", "acc_fog"] == pytest.approx(0.55)
    assert table.loc["fp4", "acc_contrast"] == pytest.approx(0.55)
    assert table.loc["fp32", "acc_contrast"] == pytest.approx(0.60)
    assert robustness.robustness_table(precision_runs[precision_runs["model"] == "gcn"]).empty


def test_corrupted_sets_never_become_the_ood_dataset(tmp_path: Path) -> None:
    spec = RunSpec(
        **Run("s", "digits", "cnn", "relu", "fp32", "torch-cpu", 0).keys(),
        run_dir=tmp_path,
        data_dir=tmp_path,
    )
    train = {"status": "ok", "reason": None}
    evals = {"digits": {"acc": 0.9}, "digits-c-fog-1": {"acc": 0.5}}
    merged = merge_metrics(spec, train, evals, {})
    assert merged["ood_dataset"] is None and merged["ood_acc"] is None
    evals["synthetic"] = {"acc": 0.7}
    merged = merge_metrics(spec, train, evals, {})
    assert merged["ood_dataset"] == "synthetic" and merged["ood_acc"] == 0.7
    assert set(merged["eval"]) == {"digits", "digits-c-fog-1", "synthetic"}


@pytest.mark.parametrize(
    ("study", "name"),
    [
        ("precision", "severity_by_format"),
        ("precision", "corruption_heatmap"),
        ("binary", "severity_by_model"),
    ],
)
def test_robustness_figures(tmp_path: Path, study: str, name: str) -> None:
    paths = []
    for m, model in enumerate(("cnn", "bnn")):
        for p, precision in enumerate(("fp32", "fp4")):
            accs = {k: v - 0.05 * (m + p) for k, v in REFERENCE[1].items()}
            run = Run(study, "digits", model, "relu", precision, "torch-cpu", 0)
            paths.append(corrupted_run(tmp_path, run, 0.9, accs))
    assert name in figures_for(study, corrupted=True) and name not in figures_for(study)
    draw(name, read_metrics(paths), tmp_path / f"{name}.png")
    _assert_png(tmp_path / f"{name}.png")


def test_frontier_on_corruption_accuracy(precision_runs: pd.DataFrame, tmp_path: Path) -> None:
    draw("frontier_corruption_latency", precision_runs, tmp_path / "frontier.png")
    _assert_png(tmp_path / "frontier.png")


def test_time_to_accuracy_sums_epochs_until_the_fraction() -> None:
    history = [
        {"test_acc": acc, "epoch_time_s": seconds}
        for acc, seconds in [(0.5, 2.0), (0.86, 3.0), (0.9, 4.0), (0.88, 5.0)]
    ]
    assert time_to_accuracy(history, 0.9, 0.95) == pytest.approx(5.0)  # 0.86 >= 0.855
    assert time_to_accuracy(history, 0.9, 1.0) == pytest.approx(9.0)
    assert time_to_accuracy(history, 0.99, 1.0) is None
    assert time_to_accuracy([], 0.9, 0.95) is None
    assert time_to_accuracy(history, None, 0.95) is None
    no_test_acc = [{**row, "test_acc": None} for row in history]  # an empty cell
    assert time_to_accuracy(no_test_acc, 0.9, 0.95) is None


def test_time_to_accuracy_is_a_comparison_column(tmp_path: Path) -> None:
    run = Run("a", "digits", "cnn", "relu", "fp32", "torch-cpu", 0)
    path = write_run(tmp_path, run, time_to_acc_s=6.0, time_to_acc_fraction=0.95)
    table = comparison_table(summary_table(read_metrics([path])))
    assert table.loc[0, "Time to 95% of final accuracy (s)"] == 6.0


def config_with(option: dict, datasets: dict | None = None) -> dict:
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["studies"]["precision"]["eval_on_corrupted"] = option
    config["datasets"] = datasets or {}
    return config


def test_default_config_evaluates_precision_and_binary_under_corruption() -> None:
    checked = check_config(yaml.safe_load((ROOT / "config.yaml").read_text()), SCHEMA)
    studies = checked["studies"]
    assert corrupted_sets(studies["precision"], "digits", "cnn")
    assert not corrupted_sets(studies["precision"], "digits", "vit")
    assert len(corrupted_sets(studies["binary"], "digits", "bnn")) >= 2
    assert studies["binary"]["eval_on_corrupted"]["reference"]["model"] == "cnn"


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"corruptions": ["snow"], "severities": [1]}, "is not valid; choose from: gaussian_noise"),
        ({"corruptions": ["fog"], "severities": [6]}, "severities[0]"),
        (
            {"corruptions": ["fog"], "severities": [1], "models": ["bnn"]},
            "'bnn' is not a model of the study",
        ),
        (
            {"corruptions": ["fog"], "severities": [1], "reference": {"precision": "fp8"}},
            "'fp8' is not a precision of the study",
        ),
        (
            {
                "corruptions": ["fog"],
                "severities": [1],
                "models": ["cnn"],
                "reference": {"model": "vit"},
            },
            "'vit' is not evaluated on corrupted sets",
        ),
    ],
)
def test_config_mistakes_are_named(option: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        check_config(config_with(copy.deepcopy(option)), SCHEMA)
    assert message in str(error.value)


def test_dataset_names_of_corrupted_sets_are_reserved() -> None:
    option = {"corruptions": ["fog"], "severities": [1]}
    taken = {"digits-c-fog-1": {"format": "digits"}}
    with pytest.raises(ConfigError, match="taken by a corrupted test set"):
        check_config(config_with(option, taken), SCHEMA)


def examples(correct: np.ndarray) -> ExamplePredictions:
    """Predictions of a two-class test set whose true labels are all 0."""
    label = np.zeros(correct.size, np.uint16)
    predicted = np.where(correct, 0, 1).astype(np.uint16)
    return ExamplePredictions(label, predicted, np.ones(correct.size, np.float16))


def with_accuracy(acc: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """A seeded correctness pattern of exactly round(acc * n) right answers out of n."""
    correct = np.arange(n) < round(acc * n)
    return rng.permutation(correct)


def corrupted_examples(clean: float, accs: dict, n: int, seed: int) -> CorruptedExamples:
    rng = np.random.default_rng(seed)
    sets = {
        f"digits-c-{c}-{s}": examples(with_accuracy(acc, n, rng)) for (c, s), acc in accs.items()
    }
    return CorruptedExamples(examples(with_accuracy(clean, n, rng)), sets)


def test_mce_interval_of_a_run_against_itself_is_one() -> None:
    run = corrupted_examples(*REFERENCE, n=200, seed=0)
    assert robustness.mce_intervals(run, run) == {
        "mce_ci": [1.0, 1.0],
        "relative_mce_ci": [1.0, 1.0],
    }


def test_mce_interval_covers_the_value_and_narrows_with_the_test_size() -> None:
    widths = []
    for n in (400, 1600):
        run = corrupted_examples(*QUANTISED, n=n, seed=1)
        reference = corrupted_examples(*REFERENCE, n=n, seed=2)
        found = robustness.mce_intervals(run, reference)
        lo, hi = found["mce_ci"]
        assert lo < 1.3125 < hi and lo > 1.0  # the hand-computed mCE; clearly worse than 1
        lo_rel, hi_rel = found["relative_mce_ci"]
        assert lo_rel < 1.25 < hi_rel
        widths.append(hi - lo)
    # A bootstrap interval shrinks as 1 / sqrt(n): four times the images, about half the width.
    assert widths[1] / widths[0] == pytest.approx(0.5, abs=0.12)


def test_mce_interval_is_none_when_undefined_or_unpaired() -> None:
    run = corrupted_examples(*QUANTISED, n=100, seed=1)
    # A reference with a single error on fog: resamples without that image have no fog error.
    nearly = {
        k: (0.99 if k[0] == "fog" and k[1] == 1 else 1.0) if k[0] == "fog" else v
        for k, v in REFERENCE[1].items()
    }
    reference = corrupted_examples(REFERENCE[0], nearly, n=100, seed=2)
    assert robustness.mce_intervals(run, reference)["mce_ci"] is None
    other = corrupted_examples(*REFERENCE, n=120, seed=2)
    assert robustness.mce_intervals(run, other) == {"mce_ci": None, "relative_mce_ci": None}


def write_examples(run_dir: Path, dataset: str, found: CorruptedExamples) -> None:
    write(run_dir / "eval" / f"{dataset}{SUFFIX}", found.clean)
    write_sets(run_dir / CORRUPTED_FILE, found.sets)


# (precision, (clean accuracy, corrupted accuracies), seed of the simulated examples)
PAIR = (("fp32", REFERENCE, 2), ("fp4", QUANTISED, 1))


def precision_runs_with_mce(tmp_path: Path, cases: tuple) -> tuple[list[Path], pd.DataFrame]:
    """The precision study's cnn at each case's precision, with its records and 100 simulated
    test examples per set: the metrics paths, and the runs read back with mCE against fp32."""
    paths = []
    for precision, (clean, accs), seed in cases:
        run = Run("precision", "digits", "cnn", "relu", precision, "torch-cpu", 0)
        path = corrupted_run(tmp_path, run, clean, accs)
        write_examples(path.parent, "digits", corrupted_examples(clean, accs, 100, seed))
        paths.append(path)
    return paths, robustness.with_corruption_errors(
        read_metrics(paths), {"model": None, "precision": "fp32"}
    )


def test_robustness_table_shows_mce_with_its_interval(tmp_path: Path) -> None:
    _, runs = precision_runs_with_mce(tmp_path, PAIR)
    fp4 = runs.set_index("precision").loc["fp4"]
    lo, hi = fp4["mce_ci"]
    assert fp4["mce"] == pytest.approx(1.3125) and lo < fp4["mce"] < hi
    table = robustness.robustness_table(runs).set_index("precision")
    assert table.loc["fp4", "mce_ci"] == [lo, hi]  # one seed: the run's own interval
    shown = robustness.robustness_markdown(table.reset_index()).set_index("precision")
    assert shown.loc["fp4", "mce"] == f"1.31 [{lo:.2f}, {hi:.2f}]"
    assert "mce_ci" not in shown


def test_severity_figure_legend_gives_mce_with_its_interval(tmp_path: Path) -> None:
    _, runs = precision_runs_with_mce(tmp_path, PAIR)
    runs.to_csv(tmp_path / "runs.csv", index=False)  # as the figure job reads it
    lo, hi = runs.set_index("precision").loc["fp4", "mce_ci"]
    fig = accuracy_vs_severity(pd.read_csv(tmp_path / "runs.csv"), "precision")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"fp4, mCE 1.31 [{lo:.2f}, {hi:.2f}]" in legend
    assert "fp32, mCE 1.00 [1.00, 1.00]" in legend


def test_findings_state_mce_with_its_interval_and_verdict(tmp_path: Path) -> None:
    cases = (*PAIR, ("fp8", REFERENCE, 3))
    paths, runs = precision_runs_with_mce(tmp_path, cases)
    sentences = findings.robustness_sentences(runs)
    mce_sentence = next(s for s in sentences if s.startswith("mCE"))
    fp4 = runs.set_index("precision").loc["fp4", "mce_ci"]
    assert f"fp4 1.31 [{fp4[0]:.2f}, {fp4[1]:.2f}]" in mce_sentence
    assert "fp32 1.00 [1.00, 1.00] (the reference)" in mce_sentence
    # Same accuracies as the reference on other images: an mCE of 1 the test cannot separate.
    assert "fp8 1.00 [" in mce_sentence
    assert "indistinguishable from the reference at this test size, n = 100" in mce_sentence
    assert any(s.startswith("Relative mCE") for s in sentences)
    assert findings.robustness_sentences(read_metrics(paths)) == []  # before mCE is computed


def test_a_configuration_interval_over_seeds_is_the_t_interval() -> None:
    values = pd.Series([1.2, 1.3, 1.4])
    lo, hi = robustness.config_interval(values, pd.Series([[1.0, 1.5]] * 3))
    expected = stats.t.interval(0.95, 2, loc=1.3, scale=stats.sem(values))
    assert (lo, hi) == pytest.approx(expected)
    assert robustness.config_interval(pd.Series([1.2]), pd.Series([[1.0, 1.5]])) == [1.0, 1.5]
    assert robustness.config_interval(pd.Series([float("nan")]), pd.Series([None])) is None


def mce_coverage(trials: int, seed: int = 1) -> tuple[float, float]:
    """A seeded simulation: each image of each set is right with its set's true accuracy
    (REFERENCE and QUANTISED above, 400 images), so the true mCE is the hand-computed 1.3125 and
    the true relative mCE 1.25; the share of trials whose intervals cover them."""
    rng = np.random.default_rng(seed)

    def draw(clean: float, accs: dict, n: int = 400) -> CorruptedExamples:
        sets = {f"digits-c-{c}-{s}": examples(rng.random(n) < a) for (c, s), a in accs.items()}
        return CorruptedExamples(examples(rng.random(n) < clean), sets)

    covered = covered_relative = 0
    for _ in range(trials):
        found = robustness.mce_intervals(draw(*QUANTISED), draw(*REFERENCE))
        lo, hi = found["mce_ci"]
        covered += lo <= 1.3125 <= hi
        relative = found["relative_mce_ci"]
        covered_relative += relative is not None and relative[0] <= 1.25 <= relative[1]
    return covered / trials, covered_relative / trials


@pytest.mark.slow
def test_mce_interval_covers_the_true_mce_at_about_the_nominal_rate() -> None:
    """Measured with `mce_coverage` (seed 1): 100 trials covered the true mCE in 0.97 and the
    true relative mCE in 0.93 of them; 400 trials in 0.9475 and 0.945."""
    mce_rate, relative_rate = mce_coverage(100)
    assert 0.9 <= mce_rate <= 0.99
    assert 0.9 <= relative_rate <= 1.0
