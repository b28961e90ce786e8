"""Serving under load: p99 and p50 latency against the offered Poisson request rate, one panel
per trained configuration, one colour per runtime, with the p99 bound and each runtime's
operating point (`server_qps`): the knee is where queueing takes over. Crosses mark levels that
dropped requests (the bounded queue was full)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from tradeoffs.analysis import style
from tradeoffs.analysis.load import CONFIG_KEYS, config_labels


def serving_latency(levels: pd.DataFrame, serving: pd.DataFrame) -> Figure:
    """`levels` and `serving` as `analysis.serving.read_serving` gives them."""
    if levels.empty or "offered_qps" not in levels:
        return style.placeholder("No run was served under Poisson load (no ok serving record).")
    levels = levels[levels["mode"] == "poisson"].sort_values("offered_qps")
    levels = levels.assign(label=config_labels(levels, CONFIG_KEYS))
    serving = serving.assign(label=config_labels(serving, CONFIG_KEYS))
    names = list(dict.fromkeys([*serving["runtime"], *levels["runtime"]]))  # records' order
    palette = dict(zip(names, style.colors(len(names)), strict=True))
    labels = sorted(levels["label"].unique())
    fig, axes = style.panels(len(labels))
    for ax, label in zip(axes, labels, strict=True):
        here = levels[levels["label"] == label]
        for (name, _), group in here.groupby(["runtime", "seed"], sort=False):
            color = palette[name]
            ax.plot(
                group["offered_qps"],
                group["latency_ms_p99"],
                "-o",
                ms=3,
                color=color,
                label=f"{name} p99",
            )
            ax.plot(group["offered_qps"], group["latency_ms_p50"], ":", color=color)
            # a level that dropped requests (a full queue) is past the knee whatever its p99:
            # its latencies are those of the requests the bounded queue let in
            dropped = group[group["dropped"] > 0]
            if not dropped.empty:
                ax.plot(
                    dropped["offered_qps"],
                    dropped["latency_ms_p99"],
                    "x",
                    ms=8,
                    color=color,
                    label="dropped requests",
                )
        records = serving[(serving["label"] == label) & serving["server_qps"].notna()]
        for _, record in records.iterrows():
            ax.axvline(
                record["server_qps"], color=palette.get(record["runtime"], "0.3"), ls="--", lw=0.8
            )
        for bound in serving.loc[serving["label"] == label, "p99_bound_ms"].dropna().unique():
            ax.axhline(bound, color="0.3", lw=0.8)
            ax.annotate(
                f"p99 bound {bound:g} ms",
                (0.01, bound),
                xycoords=("axes fraction", "data"),
                fontsize=7,
                va="bottom",
                color="0.3",
            )
        style.log_axis(ax, "x")
        style.log_axis(ax, "y")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("Offered load (Poisson requests/s)")
        ax.set_ylabel("Latency (ms; p99 solid, p50 dotted)")
        handles, names_ = ax.get_legend_handles_labels()
        unique = dict(zip(names_, handles, strict=True))
        ax.legend(unique.values(), unique.keys(), fontsize=8)
    return fig
