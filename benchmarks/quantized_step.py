"""One SGD training step of every precision-study network, fp32 against each quantised format.

Each network is built as the default config.yaml's precision study builds it (its
`model_options`, its image size after `train_by_model`) and quantised by `quantize_model`;
one step is forward, the study's loss, backward and an SGD step (`steps.train_step`). The fp32
and the quantised step alternate in one process, the medians are compared: the goal is a ratio
of at most 1.5 for every network and format, at the default's batch size and at the paper
preset's (configs/paper.yaml).

    python benchmarks/quantized_step.py [--quick] [--networks cnn vit] [--formats fp4 e4m3]
        [--batch-sizes 64] [--repeats 5] [--threads N] [--clock cpu|wall] [--profile]

`--threads` defaults to config.yaml's `threads`, the thread count its training jobs run at.
`--clock cpu` (the default) times each step by the process's CPU time (every thread's),
which other processes on a shared machine inflate far less than wall time; `wall` is the
time a user waits, on an idle machine.

`--profile` prints, per network and format, torch.profiler's operators of a few quantised
steps by self CPU time instead of the timings.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from pathlib import Path

import torch

from tradeoffs import precision, registry
from tradeoffs.config import load_yaml, run_study_config, study_with_defaults
from tradeoffs.engines.torch.steps import TrainSettings, make_loss, make_optimizer, train_step
from tradeoffs.measure.timing import RATIO_CLOCKS
from tradeoffs.models.torch import build_model

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("fp8", "fp6", "fp4", "fp3", "fp2", "e4m3", "e5m2", "e3m2", "e2m3", "e2m1")
CLASSES = 10  # digits, the default's dataset


def study(path: Path) -> dict:
    return study_with_defaults(load_yaml(path)["studies"]["precision"])


def step_fn(model: torch.nn.Module, spec: dict, x: torch.Tensor, y: torch.Tensor) -> Callable:
    """One SGD step of `model` on (x, y) with the study's loss, at learning rate 0: the step
    does all of its arithmetic (the update included) but leaves the weights as they were, so
    every timed step quantises the same values. Steps that moved them diverge on random data
    within a few steps (mobilenetv2 at fp2: NaN in 63 of its 102 quantisers after 3), and a
    diverged model's NaN values take the quantiser's slow path: the timing of a broken model."""
    train = {**spec["train"], "optimizer": "sgd", "lr": 0.0, "momentum": 0.9}
    optimizer = make_optimizer(model, TrainSettings.from_cfg(train))
    loss_fn = make_loss(spec["quantization"]["softmax"])
    model.train()
    return lambda: train_step(model, optimizer, loss_fn, x, y)


def timed_ms(fn: Callable, clock: Callable[[], float]) -> float:
    start = clock()
    fn()
    return (clock() - start) * 1e3


def network(name: str, default: dict) -> tuple[dict, tuple[int, int, int]]:
    """The network's study config as its runs see it, and its input shape (h, w, c)."""
    spec = study_with_defaults(run_study_config(default, name))
    native = registry.model_impl(name, "torch-cpu").input_shape
    size = spec["train"]["image_size"]
    return spec, (size, size, native[2]) if size else native


def build(name: str, spec: dict, shape: tuple, fmt: str) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_model(name, "relu", CLASSES, shape, spec["model_options"].get(name))
    return precision.quantize_model(model, fmt, spec["quantization"])


def profile(name: str, spec: dict, shape: tuple, fmt: str, batch: int, steps: int) -> None:
    x, y = torch.randn(batch, shape[2], shape[0], shape[1]), torch.randint(0, CLASSES, (batch,))
    step = step_fn(build(name, spec, shape, fmt), spec, x, y)
    step()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    print(f"\n## {name} {fmt} batch {batch} ({steps} steps)")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=None, help="default: the study's")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=FORMATS)
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per model (median)")
    parser.add_argument(
        "--threads", type=int, default=None, help="default: config.yaml's, as its jobs run"
    )
    parser.add_argument("--clock", choices=list(RATIO_CLOCKS), default="cpu")
    parser.add_argument("--quick", action="store_true", help="3 repeats, the default's batch")
    parser.add_argument("--profile", action="store_true", help="profiler tables, no timings")
    args = parser.parse_args()

    args.threads = args.threads or load_yaml(ROOT / "config.yaml")["threads"]
    torch.set_num_threads(args.threads)
    default = study(ROOT / "config.yaml")
    batches = args.batch_sizes or [default["train"]["batch_size"]]
    if not args.batch_sizes and not args.quick:
        batches.append(study(ROOT / "configs" / "paper.yaml")["train"]["batch_size"])
    repeats = 3 if args.quick else args.repeats
    clock = RATIO_CLOCKS[args.clock]
    print(
        f"{args.threads} thread(s), {args.clock} time, median of {repeats} steps, "
        f"batch sizes {batches}"
    )
    print(
        f"{'network':<12} {'input':<9} {'batch':>5} {'format':<6} {'fp32 ms':>9} "
        f"{'quant ms':>9} {'ratio':>6}"
    )
    worst = 0.0
    for name in args.networks or default["models"]:
        spec, shape = network(name, default)
        for batch in batches:
            x = torch.randn(batch, shape[2], shape[0], shape[1])
            y = torch.randint(0, CLASSES, (batch,))
            if args.profile:
                for fmt in args.formats:
                    profile(name, spec, shape, fmt, batch, repeats)
                continue
            fp32 = step_fn(build(name, spec, shape, "fp32"), spec, x, y)
            for fmt in args.formats:
                quantised = step_fn(build(name, spec, shape, fmt), spec, x, y)
                fp32(), quantised()  # warm-up
                times: dict[str, list[float]] = {"fp32": [], "q": []}
                for _ in range(repeats):
                    times["fp32"].append(timed_ms(fp32, clock))
                    times["q"].append(timed_ms(quantised, clock))
                f, q = statistics.median(times["fp32"]), statistics.median(times["q"])
                worst = max(worst, q / f)
                print(
                    f"{name:<12} {'x'.join(map(str, shape)):<9} {batch:>5} {fmt:<6} "
                    f"{f:>9.1f} {q:>9.1f} {q / f:>6.2f}",
                    flush=True,
                )
    if not args.profile:
        print(f"worst ratio: {worst:.2f} (goal <= 1.5)")


if __name__ == "__main__":
    main()
