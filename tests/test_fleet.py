"""One small study run as two machines, bundled, imported into a third results directory and
analysed together: both hosts in the tables, a per-device frontier, the comparability of the
machines, and the catalog answering the README's DuckDB query per host."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from test_analysis_records import write_run
from test_fingerprint import X86

from tradeoffs import fingerprint
from tradeoffs.analysis.catalog import SCHEMA
from tradeoffs.analysis.comparable import comparable_runs
from tradeoffs.bundle import write_bundle
from tradeoffs.hosts import imported_bench, imported_metrics
from tradeoffs.identity import RunId as Run

ROOT = Path(__file__).resolve().parents[1]
STUDY = "backends"
# model: (accuracy, laptop p95 ms, gpubox p95 ms)
MODELS = {"mnist_cnn": (0.97, 2.6, 0.9), "mlp": (0.91, 0.8, 0.3), "lenet": (0.94, 1.5, 0.5)}


def forged_fingerprint() -> dict:
    """A machine this test never ran on: a Xeon with AVX-512 and AMX and an H200."""
    facts = {**fingerprint.parse_cpuinfo(X86), "hostname": "gpubox", "memory_gib": 503.4}
    facts["os"] = {"system": "Linux", "kernel": "6.8.0", "machine": "x86_64"}
    facts["accelerators"] = [{"kind": "cuda", "model": "NVIDIA H200", "driver": "550.54.15"}]
    return {"host_id": fingerprint.host_id(facts), **facts}


def write_machine(root: Path, host: str, machine: dict, torch: str) -> Path:
    """A results directory of `host`: metrics.json, history, eval and bench/eager.json per run,
    as the pipeline leaves them."""
    results = root / "results"
    for model, (acc, *p95) in MODELS.items():
        latency = p95[0] if host == "laptop" else p95[1]
        # gpubox ran lenet with other study settings: that pair must not be compared
        config_hash = "other0000000000" if host == "gpubox" and model == "lenet" else "same"
        provenance = {
            "host": host,
            "host_id": machine["host_id"],
            "cpu": machine["cpu_model"],
            "config_hash": f"{config_hash}{model}",
            "data_digest": "digits-arrays",
            "versions": {"python": "3.11.7", "torch": torch},
            "fingerprint": machine,
        }
        run = Run(STUDY, "digits", model, "relu", "fp32", "torch-cpu", 0)
        metrics = write_run(
            results,
            run,
            host=host,
            test_acc=acc,
            num_classes=10,
            latency_ms_p50=latency * 0.8,
            latency_ms_p95=latency,
            provenance=provenance,
        )
        bench = {
            **{k: getattr(run, k) for k in ("study", "dataset", "model", "act", "precision")},
            **{"backend": run.backend, "seed": run.seed, "host": host, "runtime": "eager"},
            **{"runtime_kind": "float", "status": "ok", "reason": None, "runtime_acc": acc},
            **{"latency_ms_p50": latency * 0.8, "latency_ms_p95": latency},
            **{"single_stream_latency_ms": latency * 0.9, "offline_throughput_sps": 1e3 / latency},
        }
        (metrics.parent / "bench").mkdir()
        (metrics.parent / "bench" / "eager.json").write_text(json.dumps(bench))
    return results


def script(name: str, *args: str | Path) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """laptop (this machine's fingerprint) and gpubox (forged), bundled, imported into a third
    directory, then aggregated, summarised, drawn and catalogued there."""
    root = tmp_path_factory.mktemp("fleet")
    config = {"studies": {STUDY: {}}}
    laptop = write_machine(root / "laptop", "laptop", fingerprint.fingerprint(), "2.9.0")
    gpubox = write_machine(root / "gpubox", "gpubox", forged_fingerprint(), "2.8.1")
    bundles = []
    for results, host in ((laptop, "laptop"), (gpubox, "gpubox")):
        bundles.append(results / "bundles" / f"{host}.tar.gz")
        write_bundle(results, host, config, bundles[-1])
    results = root / "desk" / "results"
    desk = root / "desk" / "config.yaml"
    desk.parent.mkdir()
    study = {"datasets": ["digits"], "models": ["mnist_cnn"], "backends": ["torch-cpu"]}
    desk.write_text(
        yaml.safe_dump({"results_dir": str(results), "host": "desk", "studies": {STUDY: study}})
    )
    out = script("import_bundle.py", "--config", desk, *bundles)
    assert "host laptop, 3 new runs" in out and "host gpubox, 3 new runs" in out
    tables, summary = results / STUDY / "tables", results / "summary"
    script(
        "aggregate.py",
        *("--metrics", *imported_metrics(results, STUDY), "--study-json", "{}"),
        *("--out-dir", tables, "--study", STUDY, "--findings", results / STUDY / "findings.md"),
    )
    script(
        "runtimes.py",
        *("--bench", *imported_bench(results, STUDY), "--out-dir", tables),
        *("--figure", results / STUDY / "figures" / "throughput_batch.png"),
    )
    script("summary.py", "--runs", tables / "runs.csv", "--out-dir", summary)
    script(
        "figures.py",
        *("--figures", "frontier_latency_by_host", "--runs", summary / "runs.csv"),
        *("--out-dir", summary / "figures"),
    )
    script(
        "catalog.py",
        *("--metrics", *imported_metrics(results, STUDY)),
        *("--runtimes", tables / "runtimes.csv", "--output", summary / "catalog.parquet"),
    )
    return results


@pytest.mark.slow
def test_both_hosts_rows_are_in_the_tables(merged: Path):
    runs = pd.read_csv(merged / STUDY / "tables" / "runs.csv")
    assert sorted(runs["host"].value_counts().items()) == [("gpubox", 3), ("laptop", 3)]
    summary = pd.read_csv(merged / STUDY / "tables" / "summary.csv")
    assert len(summary) == 6 and set(summary["host"]) == {"laptop", "gpubox"}
    runtimes = pd.read_csv(merged / STUDY / "tables" / "runtimes.csv")
    assert set(runtimes["host"]) == {"laptop", "gpubox"} and len(runtimes) == 6
    assert "| host" in (merged / STUDY / "tables" / "runs.md").read_text()


@pytest.mark.slow
def test_each_device_gets_its_frontier_and_its_figure(merged: Path):
    per_host = pd.read_csv(merged / "summary" / "frontier_latency_by_host.csv")
    best = per_host.groupby("host")["model"].apply(set).to_dict()
    assert best == {
        "laptop": {"mlp", "lenet", "mnist_cnn"},
        "gpubox": {"mlp", "lenet", "mnist_cnn"},
    }
    figure = merged / "summary" / "figures" / "frontier_latency_by_host.png"
    assert figure.read_bytes().startswith(b"\x89PNG") and figure.stat().st_size > 5000


@pytest.mark.slow
def test_only_comparable_runs_are_compared_and_refusals_are_named(merged: Path):
    pairs = pd.read_csv(merged / "summary" / "comparability.csv")
    refused = pairs[~pairs["comparable"]]
    assert list(refused["model"]) == ["lenet"]
    assert "config hash" in refused.iloc[0]["reason"]
    assert (pairs["versions_differ"] == "torch 2.8.1 / 2.9.0").all()  # shown, not refused
    runs = pd.read_csv(merged / "summary" / "runs.csv")
    kept = comparable_runs(runs)  # what cross-machine views use; gpubox is the reference
    dropped = runs.drop(kept.index)
    assert list(zip(dropped["host"], dropped["model"], strict=True)) == [("laptop", "lenet")]
    findings = (merged / STUDY / "findings.md").read_text()
    assert "gpubox (Intel(R) Xeon(R) Platinum 8480+, 3 logical cores" in findings
    assert "NVIDIA H200" in findings and "laptop (" in findings
    fastest = "Fastest single-image latency (p50): mlp/gpubox (0.24 ms (no interval recorded))"
    assert fastest in findings
    assert "Not compared: lenet on digits between gpubox and laptop (config hash" in findings


def readme_query() -> str:
    readme = (ROOT / "README.md").read_text()
    return re.search(r"```sql\n(.*?)```", readme, flags=re.S).group(1)


@pytest.mark.slow
@pytest.mark.parametrize(("host", "model"), [("laptop", "lenet"), ("gpubox", "mnist_cnn")])
def test_the_catalog_answers_the_readme_query_per_host(merged: Path, host: str, model: str):
    catalog = merged / "summary" / "catalog.parquet"
    query = readme_query().replace("results/summary/catalog.parquet", str(catalog))
    row = duckdb.sql(query.replace("'laptop'", f"'{host}'")).fetchall()
    assert row[0][0] == model  # under 2 ms p95: laptop lacks mnist_cnn's speed, gpubox has it
    table = pd.read_parquet(catalog)
    assert len(table) == 6 and set(table["host"]) == {"laptop", "gpubox"}
    gpubox = table[table["host"] == "gpubox"].iloc[0]
    assert gpubox["accelerators"] == "NVIDIA H200" and "amx_tile" in gpubox["vector_extensions"]


@pytest.mark.slow
def test_the_pipeline_plans_the_merged_report_over_imported_hosts(merged: Path):
    config = yaml.safe_load((merged.parent / "config.yaml").read_text())
    config["data_dir"] = str(merged.parent / "data")
    path = merged.parent / "plan.yaml"
    path.write_text(yaml.safe_dump(config))
    plan = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "-p", "--cores", "1", "--configfile", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert plan.returncode == 0, plan.stderr
    assert f"{merged}/summary/figures/frontier_latency_by_host.png" in plan.stdout
    aggregate = next(line for line in plan.stdout.splitlines() if "scripts/aggregate.py" in line)
    for host in ("laptop", "gpubox"):
        assert f"{merged}/hosts/{host}/backends/runs/digits/lenet" in aggregate
    assert f"{merged}/summary/catalog.parquet" in plan.stdout


def test_the_catalog_schema_is_documented_column_by_column():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    catalog = doc[doc.index("### Catalog") :]
    table = catalog[catalog.index("| column | type") :].split("\n\n")[0]
    documented = set()
    for row in table.splitlines()[2:]:
        names = row.split(" | ")[0].strip("| ")
        if "…" in names:
            documented |= {"study", "dataset", "model", "act", "precision", "backend"}
        documented |= {n.strip() for n in names.split(",") if "…" not in n}
    assert documented == set(SCHEMA.names)
