"""One look for every figure: fonts, colours, axis labels with units, saving, placeholders."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import (  # noqa: E402
    FixedLocator,
    FormatStrFormatter,
    MaxNLocator,
    NullFormatter,
)

from tradeoffs import io  # noqa: E402

RC = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "image.cmap": "viridis",
}
plt.rcParams.update(RC)

LABELS = {
    "test_acc": "Test accuracy",
    "train_acc": "Train accuracy",
    "ood_acc": "Out-of-distribution accuracy",
    "corruption_acc": "Mean corruption accuracy",
    "corruption_ece": "ECE under corruption",
    "mce": "mCE (1 = reference)",
    "relative_mce": "Relative mCE (1 = reference)",
    "time_to_acc_s": "Time to accuracy (s)",
    "test_loss": "Test loss",
    "train_loss": "Train loss",
    "epoch_time_s": "Epoch time (s, median)",
    "train_time_s": "Training time (s)",
    "train_throughput_sps": "Training throughput (samples/s)",
    "infer_throughput_sps": "Inference throughput (samples/s)",
    "latency_ms_p50": "Latency per sample (ms, p50, batch 1)",
    "peak_rss_mb": "Peak RAM (MB, RSS)",
    "peak_vram_mb": "Peak VRAM (MB)",
    "size_mem_mb": "In-memory size (MB, float weights in the framework)",
    "size_disk_mb": "Disk size (MB)",
    "est_footprint_mb": "Deployed size (MB, weights at their stored bits)",
    "model_size_mb": "Model size (MB, at precision)",
    "params": "Parameters",
    "macs": "MACs per inference",
    "binary_mac_ratio": "Binary MAC ratio",
    "energy_proxy": "Energy proxy (µJ / inference)",
    "generalization_gap": "Generalisation gap (accuracy)",
    "bits": "Bits per value",
    "epoch": "Epoch",
}


def label(metric: str) -> str:
    return LABELS.get(metric, metric.replace("_", " "))


def colors(n: int) -> list[tuple[float, float, float, float]]:
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def panels(n: int, *, ncols: int | None = None, size: tuple[float, float] = (4.2, 3.2)):
    """A figure with `n` axes in a grid (flattened array; spare axes removed)."""
    ncols = ncols or min(n, 3)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False
    )
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.remove()
    return fig, flat[:n]


def rotate_ticks(ax: Axes) -> None:
    for tick in ax.get_xticklabels():
        tick.set_rotation(30)
        tick.set_horizontalalignment("right")


def log_axis(ax: Axes, which: str) -> None:
    """Put `ax`'s x or y axis (`which`) on a log scale labelled with plain numbers at `log_ticks`
    of the plotted data's limits, none on the minor ticks (their labels collide). Call it after
    plotting."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis.set_major_locator(FixedLocator(log_ticks(*axis.get_view_interval())))
    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_formatter(NullFormatter())


def log_ticks(low: float, high: float) -> list[float]:
    """Three to seven ticks in [low, high] on a log axis, as sparse as that allows: the decades,
    else 1, 2 and 5 times each decade, else every integer multiple of one, else evenly spaced
    round numbers (data within a fraction of a decade)."""
    if not 0 < low < high:
        return []
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    for multiples in ((1,), (1, 2, 5), range(1, 10)):
        ticks = [m * 10.0**d for d in decades for m in multiples if low <= m * 10.0**d <= high]
        if len(ticks) >= 3:
            return ticks[:: math.ceil(len(ticks) / 7)]  # at most 7 labels: every k-th decade
    return [t for t in MaxNLocator(nbins=4).tick_values(low, high) if low <= t <= high]


def placeholder(message: str) -> Figure:
    """A figure that says why there is nothing to draw."""
    fig, ax = plt.subplots(figsize=(6, 2.5))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=11)
    return fig


def save(
    fig: Figure, path: str | Path, title: str, metadata: Mapping[str, str] | None = None
) -> None:
    """Title, tight layout, PNG written atomically (`metadata`: its text fields), figure
    closed."""
    fig.suptitle(title, fontweight="bold", fontsize=12)
    fig.tight_layout()
    with io.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight", metadata=dict(metadata or {}))
    plt.close(fig)


def bar_positions(hues: int, width: float = 0.8) -> tuple[np.ndarray, float]:
    """Offsets of each hue's bars within groups of `hues` bars."""
    step = width / hues
    return (np.arange(hues) - (hues - 1) / 2) * step, step
