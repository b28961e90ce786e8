"""What a results directory holds: every run's metrics.json as one table, and the study tables
the pipeline wrote. Unreadable records are reported, not fatal."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tradeoffs.analysis.catalog import with_targets
from tradeoffs.analysis.load import IDENTITY, read_metrics
from tradeoffs.analysis.serving import with_server_qps
from tradeoffs.hosts import HOSTS_DIR, host_of_path
from tradeoffs.identity import RunId
from tradeoffs.records.validate import INVALID

FILTERS = tuple(k for k in IDENTITY if k not in ("act", "seed"))  # the app's run choosers


class CatalogError(ValueError):
    """The results directory cannot be used, with what to do about it."""


@dataclass(frozen=True)
class Catalog:
    results: Path
    runs: pd.DataFrame  # one row per readable metrics.json, every status
    problems: list[str] = field(default_factory=list)  # records that could not be read

    @property
    def finished(self) -> pd.DataFrame:
        """The runs that trained and were measured (status ok): the ones a user can try."""
        return self.runs[self.runs["status"] == "ok"].reset_index(drop=True)


def run_label(row: pd.Series) -> str:
    """A run's identity as one string, unique within a results directory (an imported run's
    ends with `@host`)."""
    label = RunId.of(row).label()
    host = host_of_path(row["path"])
    return f"{label}@{host}" if host else label


def load_catalog(results: str | Path) -> Catalog:
    """Every `{study}/runs/**/metrics.json` under `results`, and every imported machine's
    (`hosts/{host}/{study}/runs/**`), with each study's serving rates and accuracy-target tests
    (`acc_ratio_lo`, `meets_target` of its tables/runs.csv) where the pipeline wrote them."""
    results = Path(results)
    if not results.is_dir():
        raise CatalogError(
            f"results directory {results} does not exist: run the pipeline first (`make run`) "
            "or choose another directory (--results DIR, or the sidebar)."
        )
    readable, problems = [], []
    own = sorted(results.glob("*/runs/**/metrics.json"))
    for path in own + sorted(results.glob(f"{HOSTS_DIR}/*/*/runs/**/metrics.json")):
        try:
            record = json.loads(path.read_text())
            missing = [k for k in (*IDENTITY, "status") if k not in record]
            if missing:
                problems.append(f"{path}: no {', '.join(missing)}; rerun its metrics job")
                continue
            readable.append(path)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            problems.append(f"{path}: unreadable ({error}); rerun its metrics job")
    if not readable:
        raise CatalogError(
            f"no finished runs in {results} (no readable */runs/**/metrics.json): run the "
            "pipeline first (`make run`) or choose another results directory."
        )
    runs = read_metrics(readable)
    invalid = runs[runs["status"] == INVALID]
    problems += [f"{row.path}: {row.reason}" for row in invalid.itertuples()]
    serving = [pd.read_csv(p) for p in sorted(results.glob("*/tables/serving.csv"))]
    if serving:
        runs = with_server_qps(runs, pd.concat(serving, ignore_index=True))
    tables = [pd.read_csv(p) for p in sorted(results.glob("*/tables/runs.csv"))]
    runs = with_targets(runs, pd.concat(tables, ignore_index=True) if tables else None)
    runs.insert(0, "run", runs.apply(run_label, axis=1))
    return Catalog(results, runs, problems)


def filter_runs(runs: pd.DataFrame, choices: dict[str, list[str]]) -> pd.DataFrame:
    """The rows whose value of each filter key is among the chosen ones (empty: any)."""
    keep = pd.Series(True, index=runs.index)
    for key, values in choices.items():
        if values:
            keep &= runs[key].astype(str).isin([str(v) for v in values])
    return runs[keep]


def study_tables(results: Path) -> dict[str, Path]:
    """The summary tables the pipeline wrote, per study and across studies ("summary")."""
    tables = {p.parent.parent.name: p for p in sorted(results.glob("*/tables/summary.csv"))}
    across = results / "summary" / "summary.csv"
    if across.is_file():
        tables["summary"] = across
    return tables
