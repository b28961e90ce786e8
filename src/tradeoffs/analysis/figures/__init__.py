"""Which figures exist and which study gets which: pure data, so the Snakefile can plan them
without importing matplotlib.

A figure is drawn by `function(runs, **options)` in `tradeoffs.analysis.figures.<module>`, from a
study's runs table (and, for `needs`, the runs' history.csv or eval CSVs). Studies named in
`STUDY_FIGURES` get their seed's figures; any other study (users add their own) gets
`DEFAULT_FIGURES`. The summary figures span every study.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class NoDataError(Exception):
    """A figure's data is absent from the records; the message says what is missing."""


@dataclass(frozen=True)
class FigureSpec:
    module: str
    function: str
    title: str
    needs: tuple[str, ...] = ()  # record files beyond metrics.json: "history", "eval"
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> Path:
        """The module that draws it: a figure rule's input, so editing it redraws the figure."""
        return Path(__file__).parent / f"{self.module}.py"


FIGURES = {
    "speed": FigureSpec(
        "bars",
        "metric_bars",
        "Training speed per backend",
        options={"metrics": ("epoch_time_s", "train_throughput_sps", "infer_throughput_sps")},
    ),
    "memory": FigureSpec(
        "bars",
        "metric_bars",
        "Memory per backend",
        options={"metrics": ("peak_rss_mb", "peak_vram_mb")},
    ),
    "accuracy_per_epoch": FigureSpec(
        "curves",
        "curves",
        "Test accuracy per epoch",
        needs=("history",),
        options={"panels": (("test_acc",),)},
    ),
    "learning_curves": FigureSpec(
        "curves",
        "curves",
        "Learning curves",
        needs=("history",),
        options={"panels": (("train_loss", "test_loss"), ("train_acc", "test_acc"))},
    ),
    "confusion": FigureSpec("classes", "confusion", "Confusion matrices", needs=("eval",)),
    "per_class_f1": FigureSpec("classes", "per_class_f1", "Per-class F1", needs=("eval",)),
    "comparison": FigureSpec("table", "comparison", "Model comparison"),
    "precision_curves": FigureSpec(
        "curves", "precision_curves", "Accuracy and loss per epoch by format", needs=("history",)
    ),
    "accuracy_heatmap": FigureSpec("precision", "heatmap", "Test accuracy by format"),
    "accuracy_vs_bits": FigureSpec("precision", "accuracy_vs_bits", "Test accuracy against bits"),
    "memory_footprint": FigureSpec(
        "bars",
        "metric_bars",
        "Memory by format",
        options={"metrics": ("est_footprint_mb", "peak_rss_mb"), "x": "precision", "hue": "model"},
    ),
    "training_time": FigureSpec(
        "bars",
        "metric_bars",
        "Training time by format",
        options={"metrics": ("train_time_s", "epoch_time_s"), "x": "precision", "hue": "model"},
    ),
    "binary_overview": FigureSpec(
        "bars",
        "metric_bars",
        "Accuracy and cost of full-precision, binary and hybrid models",
        options={
            "metrics": (
                "test_acc",
                "est_footprint_mb",
                "size_mem_mb",
                "latency_ms_p50",
                "binary_mac_ratio",
                "energy_proxy",
                "params",
            )
        },
    ),
    "generalization": FigureSpec(
        "transfer", "generalization", "Accuracy in and out of distribution"
    ),
    "transfer_cost": FigureSpec(
        "bars",
        "metric_bars",
        "Latency and size",
        options={"metrics": ("latency_ms_p50", "est_footprint_mb", "size_mem_mb", "size_disk_mb")},
    ),
    "overview": FigureSpec(
        "bars",
        "metric_bars",
        "Accuracy and cost per configuration",
        options={
            "metrics": (
                "test_acc",
                "latency_ms_p50",
                "est_footprint_mb",
                "size_mem_mb",
                "energy_proxy",
            )
        },
    ),
    "frontier_latency": FigureSpec(
        "frontier", "frontier", "Accuracy against latency", options={"cost": "latency"}
    ),
    "frontier_latency_by_host": FigureSpec(
        "frontier",
        "frontier_by_host",
        "Accuracy against latency per machine",
        options={"cost": "latency"},
    ),
    "frontier_size": FigureSpec(
        "frontier", "frontier", "Accuracy against model size", options={"cost": "size"}
    ),
    "frontier_corruption_latency": FigureSpec(
        "frontier",
        "frontier",
        "Mean corruption accuracy against latency",
        options={"cost": "latency", "value": "corruption_acc"},
    ),
    "severity_by_format": FigureSpec(
        "robustness",
        "accuracy_vs_severity",
        "Accuracy under corruption by severity and format",
        options={"hue": "precision"},
    ),
    "severity_by_model": FigureSpec(
        "robustness",
        "accuracy_vs_severity",
        "Accuracy under corruption by severity and model",
        options={"hue": "model"},
    ),
    "corruption_heatmap": FigureSpec(
        "robustness",
        "corruption_heatmap",
        "Accuracy per corruption and format",
        options={"columns": "precision"},
    ),
}

STUDY_FIGURES = {
    "backends": ("speed", "accuracy_per_epoch", "memory"),
    "architectures": ("learning_curves", "confusion", "per_class_f1", "comparison"),
    "precision": (
        "precision_curves",
        "accuracy_heatmap",
        "accuracy_vs_bits",
        "memory_footprint",
        "training_time",
    ),
    "binary": ("binary_overview", "learning_curves", "comparison"),
    "transfer": ("generalization", "transfer_cost", "learning_curves", "comparison"),
}
DEFAULT_FIGURES = ("overview", "learning_curves", "comparison")
# What a study with `eval_on_corrupted` gets on top: per format for the precision study, per
# model for any other.
ROBUSTNESS_FIGURES = {"precision": ("severity_by_format", "corruption_heatmap")}
DEFAULT_ROBUSTNESS_FIGURES = ("severity_by_model",)
SUMMARY_FIGURES = ("frontier_latency", "frontier_size")
SUMMARY_ROBUSTNESS_FIGURES = ("frontier_corruption_latency",)
HOSTS_FIGURES = ("frontier_latency_by_host",)  # once other machines' bundles are imported


def figures_for(study: str, corrupted: bool = False) -> tuple[str, ...]:
    """The figures a study gets: its seed's set, or the default set for a study we do not know,
    and with corrupted test sets its robustness figures."""
    figures = STUDY_FIGURES.get(study, DEFAULT_FIGURES)
    if corrupted:
        figures += ROBUSTNESS_FIGURES.get(study, DEFAULT_ROBUSTNESS_FIGURES)
    return figures


def summary_figures(corrupted: bool = False, hosts: bool = False) -> tuple[str, ...]:
    """The cross-study figures, with the corruption-accuracy frontier when any study has
    corrupted test sets and the per-machine frontier when other machines' runs are imported."""
    figures = SUMMARY_FIGURES + (SUMMARY_ROBUSTNESS_FIGURES if corrupted else ())
    return figures + (HOSTS_FIGURES if hosts else ())
