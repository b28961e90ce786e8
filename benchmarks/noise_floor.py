"""This machine's run-to-run noise floor: one benchmark job (eager torch, seed 004's `mnist_cnn`,
the workflow's sweep) repeated in fresh processes, and the coefficient of variation (std / mean,
scipy.stats.variation) of its batch-1 p50 latency and its offline throughput across the jobs.

    python benchmarks/noise_floor.py [--jobs 5] [--threads 1] [--max-seconds 0.5]
        [--output results/noise_floor.json]

A latency difference smaller than a few times this CV is within what the machine does between
two identical jobs, whatever the bootstrap interval of one job says. The figures are written
to `--output` (the results folder's noise_floor.json), which the studies' findings quote beside
their latency comparisons (`tradeoffs.analysis.noise_floor`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from tradeoffs import fingerprint
from tradeoffs.analysis import noise_floor

SHAPE = (28, 28, 1)
IMAGES = 256


def one_job(threads: int, max_seconds: float) -> dict[str, float]:
    """One benchmark, as a workflow benchmark job times a model."""
    import torch

    from tradeoffs.measure.sweep import SweepSettings
    from tradeoffs.models.torch import build_model
    from tradeoffs.runtimes import DEFAULT, bench, torch_runtimes
    from tradeoffs.runtimes.base import Loaded
    from tradeoffs.seeding import seed_everything

    torch.set_num_threads(threads)
    seed_everything(0)
    model = build_model("mnist_cnn", "relu", 10, SHAPE).eval()
    images = torch.randn(IMAGES, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    device = torch.device("cpu")
    loaded = Loaded(
        model,
        images,
        np.zeros(IMAGES, dtype=np.int64),
        lambda runtime: torch_runtimes.build(runtime, model, images, lambda: images, device),
        lambda x, index: x[torch.from_numpy(index)],
    )
    settings = SweepSettings(
        batch_sizes=(1, 64),
        throughput_batch=64,
        warmup=3,
        repeats=20,
        max_repeats=2000,
        max_seconds=max_seconds,
        p99_ci_rel=0.1,
        memory_budget_mb=4096,
    )
    record = bench.measure(DEFAULT, loaded, settings)
    return {
        "latency_ms_p50": record["latency_ms_p50"],
        "offline_throughput_sps": record["offline_throughput_sps"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=0.5)
    parser.add_argument("--once", action="store_true", help="run one job, print its JSON")
    parser.add_argument(
        "--output", type=Path, default=Path("results") / noise_floor.FILE, help="where to write"
    )
    args = parser.parse_args()
    if args.once:
        print(json.dumps(one_job(args.threads, args.max_seconds)))
        return
    command = [sys.executable, __file__, "--once", "--threads", str(args.threads)]
    command += ["--max-seconds", str(args.max_seconds)]
    results = []
    for job in range(args.jobs):
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(f"job {job + 1}: {results[-1]}", flush=True)
    record = noise_floor.summarise(results, fingerprint.host_name())
    for key in noise_floor.MEASURES:
        print(
            f"{key}: mean {record[f'{key}_mean']:.4g}, run-to-run CV {record[f'{key}_cv']:.3f} "
            f"over {record['jobs']} jobs"
        )
    noise_floor.write(args.output, record)
    print(f"-> {args.output}")


if __name__ == "__main__":
    main()
