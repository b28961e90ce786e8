"""The per-run jobs (`tradeoffs.jobs`): the command line they share (`jobs.cli`: the run's
identity and the job's options parsed into one call, a JobError or a full disk as one line, no
traceback), and the skip job's records."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tradeoffs import io
from tradeoffs.config import study_with_defaults
from tradeoffs.identity import RunId
from tradeoffs.jobs import JobError, cli
from tradeoffs.jobs.skip import skip
from tradeoffs.records.validate import read_history
from tradeoffs.runspec import RunSpec

RUN = ["--study", "s", "--dataset", "digits", "--model", "mnist_cnn", "--act", "relu"]
RUN += ["--precision", "fp32", "--backend", "torch-cpu", "--seed", "3"]


def _argv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *extra: str) -> None:
    paths = ["--run-dir", str(tmp_path / "run"), "--data-dir", str(tmp_path / "data")]
    monkeypatch.setattr(sys, "argv", ["job", *RUN, *paths, *extra])


def test_the_job_gets_the_run_and_its_options(monkeypatch, tmp_path):
    seen = {}

    def job(spec: RunSpec, runtime: str, output: Path) -> None:
        seen.update(spec=spec, runtime=runtime, output=output)

    _argv(monkeypatch, tmp_path, "--runtime", "onnxruntime", "--output", "out.json")
    cli.run("a job", job, *cli.RUNTIME_OPTIONS)
    assert seen["runtime"] == "onnxruntime" and seen["output"] == Path("out.json")
    assert seen["spec"].seed == 3 and seen["spec"].run_dir == tmp_path / "run"
    assert seen["spec"].dataset == "digits"


def test_a_job_error_exits_with_its_message(monkeypatch, tmp_path):
    def job(spec: RunSpec) -> None:
        raise JobError("train failed: the data is bad; prepare it again")

    _argv(monkeypatch, tmp_path)
    with pytest.raises(SystemExit) as exit_:
        cli.run("a job", job)
    assert exit_.value.code == "train failed: the data is bad; prepare it again"


def test_a_full_disk_exits_with_one_line(monkeypatch, tmp_path):
    def job(spec: RunSpec) -> None:
        raise io.DiskFullError(spec.run_dir / "train.json")

    _argv(monkeypatch, tmp_path)
    with pytest.raises(SystemExit) as exit_:
        cli.run("a job", job)
    assert str(exit_.value.code).startswith("no space left on the device while writing ")
    assert "\n" not in str(exit_.value.code)


def test_an_option_may_not_overwrite_a_run_argument(monkeypatch, tmp_path):
    _argv(monkeypatch, tmp_path, "--dataset", "other")
    with pytest.raises(AssertionError, match="dataset"):
        cli.run("a job", lambda spec, dataset: None, cli.option("--other", dest="dataset"))


def test_the_skip_job_leaves_every_record_of_a_skipped_run(digits_data_dir, tmp_path, capsys):
    """The skip job runs the evaluate, benchmark and metrics jobs' not-run paths in one call."""
    spec = RunSpec(
        **RunId("s", "digits", "mnist_cnn", "relu", "fp32", "torch-cuda", 0).keys(),
        run_dir=tmp_path / "run",
        data_dir=digits_data_dir,
        study_config=study_with_defaults({}),
    )
    bench, output = spec.run_dir / "bench" / "eager.json", spec.run_dir / "metrics.json"
    skip(
        spec,
        reason="no CUDA here",
        eval_datasets=["digits"],
        runtime="eager",
        bench=bench,
        fraction=0.95,
        output=output,
    )
    assert capsys.readouterr().out.startswith("skipped: no CUDA here")
    assert spec.model_path.read_text() == "" and read_history(spec.run_dir / "history.csv") == []
    for path in (spec.run_dir / "train.json", spec.run_dir / "eval" / "digits.json", bench):
        record = io.read_json(path)
        assert (record["status"], record["reason"]) == ("skipped", "no CUDA here"), path
    assert io.read_json(bench)["runtime"] == "eager" and "sweep" not in io.read_json(bench)
    metrics = io.read_json(output)
    assert metrics["status"] == "skipped" and metrics["reason"] == "no CUDA here"
    assert metrics["test_acc"] is None and metrics["backend"] == "torch-cuda"
