"""Everything one run's jobs need to know, parsed from the command line the rules write.

Every per-run script (train, evaluate, benchmark, metrics) takes the same identity arguments,
so a job can be re-run by hand from the command in its log.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tradeoffs import registry


@dataclass(frozen=True)
class RunSpec:
    study: str
    dataset: str
    model: str
    act: str
    precision: str
    backend: str
    seed: int
    run_dir: Path
    data_dir: Path
    threads: int = 1
    skip_unavailable: bool = True
    study_config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A spec from the rules carries a checked study; one built by hand gets the same
        # schema defaults, so engines read every key without fallbacks.
        from tradeoffs.config import study_with_defaults

        object.__setattr__(self, "study_config", study_with_defaults(self.study_config))

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
        """The study's `train:` with this model's `train_by_model` recipe merged over it."""
        recipe = self.study_config.get("train_by_model", {}).get(self.model, {})
        return {**self.study_config["train"], **recipe}

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
        keys = ("study", "dataset", "model", "act", "precision", "backend", "seed")
        return {key: asdict(self)[key] for key in keys}


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--study", required=True)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--act", required=True)
    parser.add_argument("--precision", required=True)
    parser.add_argument("--backend", required=True, choices=sorted(registry.BACKENDS))
    parser.add_argument("--seed", required=True, type=int)
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-unavailable", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--study-json", default="{}", help="the study's config, as JSON")


def spec_from_args(args: argparse.Namespace) -> RunSpec:
    return RunSpec(
        study=args.study,
        dataset=args.dataset,
        model=args.model,
        act=args.act,
        precision=args.precision,
        backend=args.backend,
        seed=args.seed,
        run_dir=args.run_dir,
        data_dir=args.data_dir,
        threads=args.threads,
        skip_unavailable=args.skip_unavailable,
        study_config=json.loads(args.study_json),
    )
