"""Throughput of each torch deployment runtime as a ratio to eager, on the CPU, in one process:
seed 001's `custom_cnn` and `resnet18` on CIFAR-shaped input (3x32x32, 10 classes).

    python benchmarks/runtimes.py [--threads 2] [--batch-sizes 1 32 128] [--max-seconds 2]

Models are freshly initialised (throughput does not depend on the weights); each runtime is
checked against eager on the same images before it is timed, as in the workflow. The ratio is
offline throughput (best batch size) over eager's; single stream is the p90 latency at batch 1.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from tradeoffs import runtimes
from tradeoffs.measure.sweep import SweepSettings
from tradeoffs.models.torch import build_model
from tradeoffs.runtimes import bench, torch_runtimes
from tradeoffs.runtimes.base import Loaded
from tradeoffs.seeding import seed_everything

MODELS = ("custom_cnn", "resnet18")
SHAPE = (32, 32, 3)  # H, W, C as the registry gives it; the models take NCHW
CLASSES = 10
IMAGES = 512


def loaded(name: str) -> Loaded:
    seed_everything(0)
    model = build_model(name, "relu", CLASSES, SHAPE).eval()
    height, width, channels = SHAPE
    noise = torch.Generator().manual_seed(0)
    images = torch.randn(IMAGES, channels, height, width, generator=noise)
    device = torch.device("cpu")
    return Loaded(
        model,
        images,
        np.zeros(IMAGES, dtype=np.int64),  # labels unused: only agreement matters here
        lambda runtime: torch_runtimes.build(runtime, model, images, lambda: images, device),
        lambda x, index: x[torch.from_numpy(index)],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32, 128])
    parser.add_argument("--max-seconds", type=float, default=2.0)
    parser.add_argument("--runtimes", nargs="+", default=list(runtimes.RUNTIMES["torch"]))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = SweepSettings(
        batch_sizes=tuple(sorted({1, *args.batch_sizes})),
        throughput_batch=max(args.batch_sizes),
        warmup=3,
        repeats=20,
        max_repeats=2000,
        max_seconds=args.max_seconds,
        p99_ci_rel=0.1,
        memory_budget_mb=4096,
    )
    header = "| model | runtime | status | agreement | single stream ms | offline sps (batch) "
    print(f"{header}| ratio to eager | setup s |\n" + "|---" * 8 + "|")
    for model in MODELS:
        eager_sps = None
        for name in runtimes.runtimes_for("torch", args.runtimes):  # eager first
            record = bench.measure(name, loaded(model), settings)
            if record["status"] != "ok":
                print(f"| {model} | {name} | {record['status']}: {record['reason'][:120]} |")
                continue
            sps = record["offline_throughput_sps"]
            eager_sps = sps if name == runtimes.DEFAULT else eager_sps
            print(
                f"| {model} | {name} | ok | {record['agreement_top1']:.4f} "
                f"| {record['single_stream_latency_ms']:.3f} "
                f"| {sps:.0f} ({record['offline_batch_size']}) | {sps / eager_sps:.2f} "
                f"| {record['setup_s']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
