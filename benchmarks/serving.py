"""The serving load generator for real, in one process: the generator's own overhead (an empty
predictor's p99), then the operating point of a small torch model under torch eager and ONNX
Runtime, unbatched and with dynamic batching.

    python benchmarks/serving.py [--model mnist_cnn] [--threads 1] [--p99-ms 10]
        [--duration-s 1] [--max-batch 8] [--max-wait-ms 1]

The model is freshly initialised (serving speed does not depend on the weights), on digits'
8x8 input; each runtime is built as the workflow builds it (`torch_runtimes.build`) and served
through the same `serving.measure.runtime_server` the serving job uses. Prints one row per
runtime and batching with server_qps, the p50/p99 there, the queue's share of latency, the
mean batch and the closed-loop capacity, then the multi-stream levels.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from tradeoffs import registry
from tradeoffs.measure.timing import Clock
from tradeoffs.models.torch import build_model
from tradeoffs.runtimes import torch_runtimes
from tradeoffs.seeding import seed_everything
from tradeoffs.serving.loadgen import Batching
from tradeoffs.serving.measure import cores, runtime_server, warm_up
from tradeoffs.serving.operating_point import Server, ServingSettings, offered, operating_point

IMAGES = 512


def settings(args: argparse.Namespace, batching: Batching) -> ServingSettings:
    levels = {2**i for i in range(int(np.log2(cores())) + 1)} | {batching.max_batch}
    return ServingSettings(
        p99_ms=args.p99_ms,
        duration_s=args.duration_s,
        batching=batching,
        queue_size=256,
        confidence=0.95,
        resolution=0.05,
        clients=tuple(sorted(levels)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mnist_cnn")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--p99-ms", type=float, default=10.0)
    parser.add_argument("--duration-s", type=float, default=1.0)
    parser.add_argument("--max-batch", type=int, default=8)
    parser.add_argument("--max-wait-ms", type=float, default=1.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"threads {args.threads}, cores {cores()}, p99 bound {args.p99_ms:g} ms, ", end="")
    print(f"levels of >= {args.duration_s:g} s\n")

    plain = settings(args, Batching())
    for rate in (1000.0, 10000.0):
        empty = offered(Server(lambda batch: None, Clock()), rate, plain)
        print(
            f"generator overhead (empty predictor) at {rate:.0f} req/s: "
            f"p50 {empty['latency_ms_p50'] * 1e3:.0f} us, p99 {empty['latency_ms_p99']:.3f} ms "
            f"({empty['requests']} requests)"
        )

    seed_everything(0)
    h, w, c = registry.MODELS[args.model]["torch"].input_shape
    model = build_model(args.model, "relu", 10, (h, w, c)).eval()
    images = torch.randn(IMAGES, c, h, w, generator=torch.Generator().manual_seed(0))
    take = lambda x, index: x[torch.from_numpy(index)]  # noqa: E731
    header = "\n| runtime | batching | server_qps | p50 ms | p99 ms [95% CI] | queue share "
    print(f"{header}| mean batch | capacity req/s | wall s |\n" + "|---" * 9 + "|")
    streams = []
    for name in ("eager", "onnxruntime"):
        runtime = torch_runtimes.build(name, model, images, lambda: images, torch.device("cpu"))
        for batching in (Batching(), Batching(args.max_batch, args.max_wait_ms / 1e3)):
            served = settings(args, batching)
            server = runtime_server(runtime, images, take, IMAGES)
            warm_up(server, batching.max_batch)
            began = time.perf_counter()
            found = operating_point(server, served)
            wall = time.perf_counter() - began
            at = found["operating"] or {}
            label = f"max {batching.max_batch}, {batching.max_wait_s * 1e3:g} ms"
            ci = at.get("latency_ms_p99_ci") or [float("nan")] * 2
            print(
                f"| {name} | {label} | {found['server_qps'] or 0:.0f} "
                f"| {at.get('latency_ms_p50', float('nan')):.3f} "
                f"| {at.get('latency_ms_p99', float('nan')):.3f} [{ci[0]:.3f}, {ci[1]:.3f}] "
                f"| {at.get('queue_share') or float('nan'):.2f} "
                f"| {at.get('batch_mean') or float('nan'):.2f} "
                f"| {found['capacity_qps']:.0f} | {wall:.1f} |",
                flush=True,
            )
            streams += [(name, label, level) for level in found["multistream"]]
    print("\n| runtime | batching | clients | throughput req/s | p50 ms | p99 ms | mean batch |")
    print("|---" * 7 + "|")
    for name, label, level in streams:
        print(
            f"| {name} | {label} | {level['clients']} | {level['throughput_qps']:.0f} "
            f"| {level['latency_ms_p50']:.3f} | {level['latency_ms_p99']:.3f} "
            f"| {level['batch_mean']:.2f} |"
        )


if __name__ == "__main__":
    main()
