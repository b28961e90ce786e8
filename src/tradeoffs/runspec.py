"""Everything one run's jobs need to know, parsed from the command line the rules write.

Every per-run script (train, evaluate, benchmark, metrics) takes the same identity arguments
(`tradeoffs.identity`), so a job can be re-run by hand from the command in its log.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradeoffs import identity, registry
from tradeoffs.identity import RunId


@dataclass(frozen=True, kw_only=True)
class RunSpec(RunId):
    """A run's identity and what its jobs read: its folders and its study's checked config as
    the run's model sees it (`config.run_study_config`: every default filled, the model's
    recipe merged into `train`)."""

    run_dir: Path
    data_dir: Path
    threads: int = 1
    skip_unavailable: bool = True
    study_config: dict[str, Any] = field(default_factory=dict)

    @property
    def framework(self) -> str:
        return registry.BACKENDS[self.backend].framework

    @property
    def device(self) -> str:
        return registry.BACKENDS[self.backend].device

    @property
    def model_path(self) -> Path:
        return self.run_dir / registry.BACKENDS[self.backend].model_file

    @property
    def train_cfg(self) -> dict[str, Any]:
        """The study's `train:`, this model's `train_by_model` recipe merged in."""
        return self.study_config["train"]

    @property
    def model_options(self) -> dict[str, Any]:
        """This model's `model_options` (empty: built as its source study defines it)."""
        return self.study_config.get("model_options", {}).get(self.model, {})

    @property
    def declared_models(self) -> dict[str, Any]:
        """The study's declared models (the config check's derived `declared_models`, absent
        from a study without any so that its config hash stays as it was)."""
        return self.study_config.get("declared_models", {})

    @property
    def declared_model(self) -> dict[str, Any] | None:
        """This model's checked `models:` entry when the config declares it (builder file,
        options, the file's sha256), else None."""
        return self.declared_models.get(self.model)

    @property
    def pretrained(self) -> dict[str, Any] | None:
        """This model's checked `pretrained:` entry (file, format, sha256, trust_code) when the
        run benchmarks a trained file, else None."""
        return self.study_config.get("pretrained", {}).get(self.model)

    @property
    def bench_cfg(self) -> dict[str, Any]:
        return self.study_config["benchmark"]

    @property
    def throughput_batch(self) -> int:
        """The batch size of the throughput keys: `benchmark.batch_size`, else the training
        batch size."""
        return self.bench_cfg["batch_size"] or self.train_cfg["batch_size"]

    @property
    def quant_cfg(self) -> dict[str, Any]:
        return self.study_config["quantization"]

    @property
    def transfer_cfg(self) -> dict[str, Any]:
        return self.study_config["transfer"]

    @property
    def config_hash(self) -> str:
        """Hash of the study's settings: equal hashes, comparable runs."""
        canonical = json.dumps(self.study_config, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def prepared_dir(self, dataset: str | None = None) -> Path:
        return self.data_dir / "prepared" / (dataset or self.dataset)

    def identity(self) -> dict[str, Any]:
        """The run's keys as they appear in every record."""
        return self.keys()


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    identity.add_arguments(parser)
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-unavailable", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--study-json", default="{}", help="the study's config, as JSON")


def spec_from_args(args: argparse.Namespace) -> RunSpec:
    return RunSpec(
        **RunId.of(args).keys(),
        run_dir=args.run_dir,
        data_dir=args.data_dir,
        threads=args.threads,
        skip_unavailable=args.skip_unavailable,
        study_config=json.loads(args.study_json),
    )
