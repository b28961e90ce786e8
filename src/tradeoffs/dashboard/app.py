"""tradeoffs dashboard: try the trained runs of a results directory on your own images, compare
them, and pick one to deploy.

    streamlit run src/tradeoffs/dashboard/app.py -- --results results --config config.yaml

`--config` is the config the pipeline ran with (its data_dir, and each study's settings, which
rebuild a run's model); `--results` defaults to its results_dir. Both can be changed in the
sidebar. Every user mistake is shown as a message, never a traceback.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
import yaml

import tradeoffs
from tradeoffs.analysis import pick
from tradeoffs.analysis.frontier import COSTS, frontier_points, with_model_size
from tradeoffs.config import ConfigError, check_config
from tradeoffs.dashboard import catalog, device, predict, session, uploads
from tradeoffs.dashboard.markdown import literal

SCHEMA = Path(tradeoffs.__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"
INSIGHT_COLUMNS = (
    "run",
    "energy_proxy",
    "energy_measured_uj_per_inf",
    "binary_mac_ratio",
    "est_footprint_mb",
    "size_mem_mb",
    "size_disk_mb",
    "params",
    "macs",
)
LATEST = 10  # images summarised in words under the table, newest last
RECORDED = ("run", "test_acc", "latency_ms_p50", "latency_ms_p95", "model_size_mb", "size_disk_mb")


def arguments() -> argparse.Namespace:
    """Command-line flags (after `--` in `streamlit run`), else environment, else defaults."""
    parser = argparse.ArgumentParser(description="tradeoffs dashboard")
    parser.add_argument("--config", default=os.environ.get("TRADEOFFS_CONFIG", "config.yaml"))
    parser.add_argument("--results", default=os.environ.get("TRADEOFFS_RESULTS"))
    return parser.parse_known_args()[0]


@st.cache_data(show_spinner=False)
def load_config(path: str, mtime: float) -> dict[str, Any]:
    """The checked config (defaults filled, as the pipeline's jobs saw it); `mtime` re-reads it
    when the file changes."""
    with open(path) as handle:
        # Declared models were built by the pipeline's config check; a broken one is named
        # when its run is loaded.
        config = yaml.safe_load(handle) or {}
        return check_config(config, SCHEMA, Path(path).parent, probe_models=False)


@st.cache_resource(show_spinner="Loading model…", max_entries=32)
def cached_model(
    run_dir: str, model_mtime: float, config_key: str, _row: dict, _config: dict
) -> predict.LoadedModel:
    """One loaded model per run folder, model-file version and config, kept across
    interactions."""
    return predict.load_model(_row, _config)


def model_mtime(row: pd.Series) -> float:
    files = [p for p in Path(row["path"]).glob("model.*") if p.is_file()]
    return max((p.stat().st_mtime for p in files), default=0.0)


def sidebar(args: argparse.Namespace) -> tuple[dict, str, catalog.Catalog, pd.DataFrame]:
    """Config, results directory, filters and the chosen runs; stops with a message when the
    config or results directory cannot be used."""
    st.sidebar.header("Data")
    config_path = st.sidebar.text_input("Config the pipeline ran with", args.config)
    try:
        config = load_config(config_path, Path(config_path).stat().st_mtime)
    except OSError as error:
        st.error(
            literal(f"Cannot read config {config_path}: {error.strerror}. Give the config file.")
        )
        st.stop()
    except (ConfigError, yaml.YAMLError) as error:
        st.error(f"Config {literal(config_path)} is not valid:\n\n{literal(error)}")
        st.stop()
    results = st.sidebar.text_input("Results directory", args.results or config["results_dir"])
    try:
        found = catalog.load_catalog(results)
    except catalog.CatalogError as error:
        st.error(literal(error))
        st.stop()
    runs = found.finished
    st.sidebar.header("Filter runs")
    choices = {}
    for key in catalog.FILTERS:
        options = sorted(runs[key].astype(str).unique())
        choices[key] = st.sidebar.multiselect(key, options, key=f"filter_{key}")
    shown = catalog.filter_runs(runs, choices)
    st.sidebar.header("Models")
    chosen = st.sidebar.multiselect(
        "Runs to try", list(shown["run"]), key="models", placeholder="Choose finished runs"
    )
    config_key = f"{Path(config_path).resolve()}@{Path(config_path).stat().st_mtime}"
    return config, config_key, found, runs[runs["run"].isin(chosen)]


def predict_uploads(files: list, chosen: pd.DataFrame, config: dict, config_key: str) -> None:
    """Every image of every upload through every chosen run, appended to the session table."""
    images, problems = [], []
    for file in files:
        decoded, skipped = uploads.decode_upload(file.name, file.getvalue())
        images += decoded
        problems += skipped
    models = []
    for _, run in chosen.iterrows():
        try:
            loaded = cached_model(run["path"], model_mtime(run), config_key, run.to_dict(), config)
            models.append((run, loaded))
        except predict.ModelError as error:
            problems.append(str(error))
    rows = []
    for image in images:
        notes = [image.note] if image.note else []
        channels = {model.shape[2] for _, model in models}
        if image.image.mode == "L" and 3 in channels:
            notes.append("greyscale, repeated into three channels for colour runs")
        if image.image.mode == "RGB" and 1 in channels:
            notes.append("colour, reduced to its luminance for greyscale runs")
        if notes:
            st.info(literal(f"{image.name}: {'; '.join(notes)}."))
        for run, model in models:
            array = uploads.to_dataset_array(image.image, model.shape)
            rows.append(session.row(image.name, run, predict.predict(model, array)))
    for problem in problems:
        st.warning(literal(problem))
    st.session_state.rows = st.session_state.get("rows", []) + rows
    if rows:
        st.success(f"{len(rows)} predictions ({len(images)} images × {len(models)} runs).")


def overview_tab(found: catalog.Catalog, predictions: pd.DataFrame) -> None:
    runs = found.runs
    cols = st.columns(4)
    cols[0].metric("Finished runs", len(found.finished))
    cols[1].metric("Skipped or failed", int((runs["status"] != "ok").sum()))
    cols[2].metric("Studies", runs["study"].nunique())
    cols[3].metric("Images predicted", predictions["image"].nunique())
    if predictions.empty:
        st.caption("Upload images and press Predict to compare the chosen runs.")
        return
    facts = session.overview(predictions)
    cols = st.columns(2)
    cols[0].metric(
        "Fastest run (median ms)", f"{facts['fastest_ms']:.3f}", help=literal(facts["fastest"])
    )
    cols[0].caption(f"fastest: {literal(facts['fastest'])}")
    agree = facts["agreement"]
    cols[1].metric("Runs agree on", "n/a" if agree is None else f"{agree:.0%} of images")


def comparison_tab(found: catalog.Catalog, predictions: pd.DataFrame) -> None:
    if not predictions.empty:
        st.subheader("On your images")
        st.dataframe(session.per_model(predictions), hide_index=True)
    st.subheader("As recorded by the pipeline")
    recorded = with_model_size(found.finished)
    if not predictions.empty:
        recorded = recorded[recorded["run"].isin(predictions["run"])]
    st.dataframe(recorded[[c for c in RECORDED if c in recorded]], hide_index=True)


def analysis_tab(found: catalog.Catalog) -> None:
    """Accuracy against latency and size, frontier members marked; hover names the run."""
    runs = found.runs
    for name, column in COSTS.items():
        points = frontier_points(runs, column)
        if points.empty:
            st.info(f"No finished run has both test accuracy and {column}.")
            continue
        points["run"] = points.apply(catalog.run_label, axis=1)
        chart = (
            alt.Chart(points)
            .mark_circle(size=90)
            .encode(
                x=alt.X(column, scale=alt.Scale(type="log"), title=column),
                y=alt.Y("test_acc", title="test accuracy"),
                color=alt.Color("on_frontier:N", title="on frontier"),
                shape="dataset:N",
                tooltip=["run", "test_acc", column, "model", "precision", "backend"],
            )
            .properties(title=f"Accuracy against {name}")
            .interactive()
        )
        st.altair_chart(chart, width="stretch")


def insights_tab(found: catalog.Catalog) -> None:
    runs = found.finished
    st.caption(
        "energy_proxy: µJ per inference from MACs and memory traffic at the run's bit width "
        "(Horowitz 2014); binary_mac_ratio: share of MACs done on 1-bit operands; footprint: "
        "weights at the run's precision."
    )
    st.dataframe(runs[[c for c in INSIGHT_COLUMNS if c in runs]], hide_index=True)
    if "energy_proxy" in runs and runs["energy_proxy"].notna().any():
        st.bar_chart(runs.set_index("run")["energy_proxy"], horizontal=True)


def benchmarks_tab(found: catalog.Catalog) -> None:
    tables = catalog.study_tables(found.results)
    if not tables:
        st.info(literal(f"No study tables in {found.results} yet: the aggregate rule writes them."))
    for study, path in tables.items():
        st.subheader(literal(study))
        findings = path.parent.parent / "findings.md"  # intervals, ties and conditions
        if findings.is_file():
            st.text(findings.read_text())
        st.dataframe(pd.read_csv(path), hide_index=True)


def pick_tab(found: catalog.Catalog) -> None:
    """Constraints in, qualifying runs out (best first), and why every other run is out, on the
    chosen device (host)."""
    machines = device.hosts(found.runs)
    host = st.selectbox("Device (host)", machines, key="device") if machines else None
    runs = device.device_runs(found.runs, host)
    cols = st.columns(3)
    latency = cols[0].number_input("Max latency (ms)", min_value=0.0, value=None, key="max_ms")
    percentile = cols[0].radio("Latency percentile", pick.PERCENTILES, horizontal=True)
    footprint = cols[1].number_input("Max footprint (MB)", min_value=0.0, value=None)
    disk = cols[1].number_input("Max file size (MB)", min_value=0.0, value=None)
    accuracy = cols[2].number_input(
        "Min test accuracy", min_value=0.0, max_value=1.0, value=None, key="min_acc"
    )
    backends = cols[2].multiselect("Backends", sorted(runs["backend"].unique()))
    server_qps = cols[0].number_input(
        "Min requests/s within the serving p99 bound", min_value=0.0, value=None, key="min_qps"
    )
    datasets = st.multiselect("Datasets", sorted(runs["dataset"].unique()))
    target = st.checkbox(
        "Only runs that meet their study's accuracy target (lower bound of the accuracy ratio "
        "to the reference, paired over the test examples)",
        key="meets_target",
    )
    budget = pick.Budget(
        max_latency_ms=latency,
        percentile=percentile,
        max_footprint_mb=footprint,
        max_disk_mb=disk,
        min_accuracy=accuracy,
        meets_target=target,
        min_server_qps=server_qps,
        backends=tuple(backends) or None,
        datasets=tuple(datasets) or None,
    )
    result = pick.pick(runs, budget)
    st.markdown(f"**{len(result.ranked)} runs fit** ({literal(budget.describe())}), best first:")
    if result.tie:
        st.info(literal(result.tie))
    shown = ["rank", "run", "test_acc", budget.latency_column, "model_size_mb", "size_disk_mb"]
    shown += ["acc_ratio_lo", "meets_target", "server_qps", "p99_bound_ms"]
    st.dataframe(result.ranked[[c for c in shown if c in result.ranked]], hide_index=True)
    st.markdown(f"**{len(result.excluded)} excluded**, and why:")
    st.dataframe(result.excluded[["run", "why"]], hide_index=True)
    if host is None:
        return
    missing = device.unmeasured(found.runs, host)
    if not missing.empty:
        st.warning(
            f"{literal(host)} has no measurement for {len(missing)} candidates that other "
            "devices measured: they cannot be picked here."
        )
        st.dataframe(missing, hide_index=True)
    rows = device.catalog_rows(found.results, host)
    if rows is None:
        st.caption(f"No {device.CATALOG} yet: the pipeline's catalog rule writes it.")
    else:
        st.markdown(f"**Every runtime measured on {literal(host)}** (catalog):")
        st.dataframe(rows, hide_index=True)


def main() -> None:
    st.set_page_config(page_title="tradeoffs dashboard", layout="wide")
    st.title("tradeoffs: try the trained models")
    config, config_key, found, chosen = sidebar(arguments())
    for problem in found.problems:
        st.warning(literal(problem))
    files = st.file_uploader(
        "Images (PNG, JPEG) or a zip of them", accept_multiple_files=True, key="uploads"
    )
    left, right = st.columns(2)
    if left.button("Predict", type="primary", disabled=not files or chosen.empty):
        predict_uploads(files, chosen, config, config_key)
    if right.button("Clear results"):
        st.session_state.rows = []
    if chosen.empty:
        st.caption("Choose one or more runs under Models in the sidebar.")
    predictions = session.table(st.session_state.get("rows", []))
    st.subheader("Predictions")
    st.dataframe(predictions, hide_index=True)
    for line in session.summary_lines(predictions, LATEST):
        st.markdown(line)
    st.download_button(
        "Download CSV",
        session.to_csv(predictions),
        file_name="predictions.csv",
        mime="text/csv",
        disabled=predictions.empty,
        on_click="ignore",  # a download changes nothing on the page: no rerun
    )
    tabs = st.tabs(["Overview", "Comparison", "Analysis", "Insights", "Benchmarks", "Pick a model"])
    with tabs[0]:
        overview_tab(found, predictions)
    with tabs[1]:
        comparison_tab(found, predictions)
    with tabs[2]:
        analysis_tab(found)
    with tabs[3]:
        insights_tab(found)
    with tabs[4]:
        benchmarks_tab(found)
    with tabs[5]:
        pick_tab(found)


main()
