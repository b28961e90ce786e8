"""numba engine (numba-cpu, numba-cuda): seed 004's CNN, hand-written, trained and measured
with the same records as the torch engine.

A run sees what the torch engine's run of the same spec sees (docs/architecture.md, "Comparable
backends"): torch's initial weights (`seed_everything(seed); MnistCNN(num_classes)`, the torch
engine's own call); inputs standardised with the (limited) training images' mean and std
(`channel_stats`, kept in model.npz as `norm_mean`/`norm_std` for predict and benchmark); epoch e
in the order `seeding.epoch_order(seed, e, n)`, cut to `seeding.usable_samples` (the last batch
may be short, but never a single sample).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

from tradeoffs import io, records
from tradeoffs.data.prepared import Prepared, adapt_images, load_prepared
from tradeoffs.evaluation import Predictions
from tradeoffs.measure.inference import benchmark_inference
from tradeoffs.measure.memory import ResourceMonitor
from tradeoffs.measure.timing import no_sync
from tradeoffs.models.numba import layout
from tradeoffs.runspec import RunSpec
from tradeoffs.seeding import epoch_order, usable_samples

INPUT_SHAPE = (layout.IMAGE, layout.IMAGE, 1)


def _model(spec: RunSpec, theta: np.ndarray, num_classes: int, norm: layout.Norm, batch_size: int):
    if spec.device == "cuda":
        from tradeoffs.models.numba.cuda import CudaModel

        return CudaModel(theta, num_classes, norm, batch_size)
    from tradeoffs.models.numba.cpu import CpuModel

    return CpuModel(theta, num_classes, norm)


def _device_name(spec: RunSpec) -> str:
    if spec.device == "cuda":
        from numba import cuda

        name = cuda.get_current_device().name
        return name.decode() if isinstance(name, bytes) else name
    return records.provenance(spec, records.now())["cpu"]


def _vram_mb(spec: RunSpec) -> float | None:
    """Device memory in use (all processes: numba has no per-process peak), or None on CPU."""
    if spec.device != "cuda":
        return None
    from numba import cuda

    free, total = cuda.current_context().get_memory_info()
    return (total - free) / 2**20


def _set_threads(spec: RunSpec) -> None:
    numba.set_num_threads(max(1, min(spec.threads, numba.config.NUMBA_NUM_THREADS)))


def _data(spec: RunSpec, dataset: str | None = None) -> Prepared:
    data = load_prepared(spec.prepared_dir(dataset))
    return Prepared(
        train_x=adapt_images(data.train_x, INPUT_SHAPE),
        train_y=data.train_y.astype(np.int64),
        test_x=adapt_images(data.test_x, INPUT_SHAPE),
        test_y=data.test_y.astype(np.int64),
        meta=data.meta,
    )


def _softmax_xent(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float]:
    """Probabilities and mean cross-entropy, in float64."""
    z = logits.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return np.exp(log_probs), float(-log_probs[np.arange(len(labels)), labels].mean())


def _load(spec: RunSpec) -> tuple[np.ndarray, int, layout.Norm]:
    """The trained parameters (flat), the class count and the input standardisation."""
    with np.load(spec.model_path) as npz:
        state = {name: npz[name] for name in npz.files}
    norm = layout.Norm(float(state.pop("norm_mean")[0]), float(state.pop("norm_std")[0]))
    return layout.from_torch(state), state["fc2.bias"].shape[0], norm


def _save(spec: RunSpec, theta: np.ndarray, num_classes: int, norm: layout.Norm) -> None:
    """model.npz: MnistCNN's state dict and, per channel as the torch meta, `norm_mean` and
    `norm_std`."""
    with io.atomic_path(spec.model_path) as tmp, tmp.open("wb") as handle:
        np.savez(
            handle,
            **layout.to_torch(theta, num_classes),
            norm_mean=np.array([norm.mean]),
            norm_std=np.array([norm.std]),
        )


def _compile(
    spec: RunSpec,
    theta: np.ndarray,
    num_classes: int,
    norm: layout.Norm,
    batch_size: int,
    xs: Any,
    ys: Any,
    test_xs: Any,
) -> float:
    """JIT warm-up: one step and one inference on a throwaway copy of the model, so that the
    timed epochs measure training, not compilation. Returns the seconds it took."""
    start = time.perf_counter()
    scratch = _model(spec, theta.copy(), num_classes, norm, batch_size)
    scratch.train_epoch(xs, ys, np.arange(min(2, len(ys))), batch_size, 0.0, 0.0)
    scratch.logits(test_xs[:1])
    return time.perf_counter() - start


def train(spec: RunSpec) -> None:
    """Train and write model.npz, history.csv and train.json; one progress line per epoch."""
    started = records.now()
    _set_threads(spec)
    cfg = spec.train_cfg
    epochs, batch_size = cfg.get("epochs", 10), cfg.get("batch_size", 128)
    lr, momentum = cfg.get("lr", 0.01), cfg.get("momentum", 0.9)
    data = _data(spec)
    limit = cfg.get("limit_train") or len(data.train_y)
    train_x, train_y = data.train_x[:limit], data.train_y[:limit]
    norm = layout.Norm.of(train_x)
    theta = layout.initial_params(spec.seed, data.num_classes)
    model = _model(spec, theta, data.num_classes, norm, batch_size)
    xs, ys = model.resident(train_x), model.resident(train_y)
    test_xs = model.resident(data.test_x)
    used = usable_samples(len(train_y), batch_size)
    compile_s = _compile(spec, theta, data.num_classes, norm, batch_size, xs, ys, test_xs)
    print(f"kernels compiled (or loaded from numba's cache) in {compile_s:.1f}s", flush=True)
    rows: list[dict[str, Any]] = []
    status, reason = "ok", None
    with ResourceMonitor() as run_monitor:
        for epoch in range(1, epochs + 1):
            order = epoch_order(spec.seed, epoch, len(train_y))[:used]
            with ResourceMonitor() as monitor:
                start = time.perf_counter()
                loss, acc = model.train_epoch(xs, ys, order, batch_size, lr, momentum)
                seconds = time.perf_counter() - start
            probs, test_loss = _softmax_xent(model.logits(test_xs), data.test_y)
            test_acc = float((probs.argmax(axis=1) == data.test_y).mean())
            rows.append(
                {
                    "epoch": epoch,
                    "train_loss": loss,
                    "train_acc": acc,
                    "test_loss": test_loss,
                    "test_acc": test_acc,
                    "epoch_time_s": seconds,
                    "train_throughput_sps": used / seconds,
                    "peak_rss_mb": monitor.peak_rss_mb,
                    "peak_vram_mb": _vram_mb(spec),
                    "cpu_util_pct": monitor.cpu_util_pct,
                }
            )
            print(
                f"epoch {epoch}/{epochs} loss {loss:.4f} acc {acc:.4f} test_loss "
                f"{test_loss:.4f} test_acc {test_acc:.4f} {seconds:.2f}s",
                flush=True,
            )
            if not math.isfinite(loss):
                status, reason = "failed", f"training diverged: loss {loss} in epoch {epoch}"
                break
    _save(spec, model.params(), data.num_classes, norm)
    records.write_history(spec.run_dir / "history.csv", rows)
    train_time = sum(row["epoch_time_s"] for row in rows)
    device_name = _device_name(spec)
    io.write_json(
        spec.run_dir / "train.json",
        {
            **spec.identity(),
            "status": status,
            "reason": reason,
            "train_time_s": train_time,
            "epoch_time_s": statistics.median(row["epoch_time_s"] for row in rows),
            "train_throughput_sps": used * len(rows) / train_time,
            "epochs_run": len(rows),
            "best_epoch": max(rows, key=lambda row: row["test_acc"])["epoch"],
            "peak_rss_mb": run_monitor.peak_rss_mb,
            "peak_vram_mb": _vram_mb(spec),
            "cpu_util_pct": run_monitor.cpu_util_pct,
            "device_name": device_name,
            "provenance": records.provenance(spec, started, device_name),
        },
    )


def predict(spec: RunSpec, dataset: str) -> Predictions:
    """Softmax probabilities of the trained model on `dataset`'s test split."""
    _set_threads(spec)
    theta, num_classes, norm = _load(spec)
    data = _data(spec, dataset)
    batch_size = spec.train_cfg.get("batch_size", 128)
    model = _model(spec, theta, num_classes, norm, batch_size)
    probs, loss = _softmax_xent(model.logits(model.resident(data.test_x)), data.test_y)
    return Predictions(probs=probs, labels=data.test_y, loss=loss)


def predictor(spec: RunSpec) -> Callable[[np.ndarray], np.ndarray]:
    """The model loaded once, as probabilities of uint8 NHWC images adapted as in predict (the
    dashboard's path)."""
    _set_threads(spec)
    theta, num_classes, norm = _load(spec)
    model = _model(spec, theta, num_classes, norm, spec.train_cfg.get("batch_size", 128))
    return lambda images: _softmax_xent(
        model.logits(model.resident(adapt_images(images, INPUT_SHAPE))), np.zeros(len(images), int)
    )[0]


def benchmark(spec: RunSpec) -> dict[str, Any]:
    """bench.json's keys: sizes, MACs, latency at batch 1, throughput, memory."""
    _set_threads(spec)
    theta, num_classes, norm = _load(spec)
    bench = spec.bench_cfg
    batch_size = bench.get("batch_size") or spec.train_cfg.get("batch_size", 128)
    images = _data(spec).test_x
    batch = np.resize(images, (batch_size, *INPUT_SHAPE))  # repeats a small test set
    model = _model(spec, theta, num_classes, norm, batch_size)
    sync = no_sync
    if spec.device == "cuda":
        from numba import cuda

        sync = cuda.synchronize
        run = model.logits_device
    else:
        run = model.logits
    timings = benchmark_inference(
        run,
        model.resident(batch[:1]),
        model.resident(batch),
        batch_size,
        warmup=bench.get("warmup", 10),
        repeats=bench.get("repeats", 50),
        sync=sync,
        device=spec.device,
    )
    params = layout.param_count(num_classes)
    macs = layout.macs(num_classes)
    return {
        **timings,
        "params": params,
        "size_disk_mb": spec.model_path.stat().st_size / 2**20,
        "size_mem_mb": params * 4 / 2**20,
        "est_footprint_mb": params * 4 / 2**20,
        "macs": macs,
        "flops": 2 * macs,
        "bench_peak_vram_mb": _vram_mb(spec),
        "device_name": _device_name(spec),
    }
