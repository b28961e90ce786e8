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

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np

from tradeoffs import io
from tradeoffs.data.prepared import Prepared, adapt_images, load_prepared
from tradeoffs.data.validation import split_validation
from tradeoffs.engines import EpochHook
from tradeoffs.engines.selection import Selection
from tradeoffs.evaluation import Predictions
from tradeoffs.fileformat import FileFormat, detect, require
from tradeoffs.measure.sweep import SweepSettings
from tradeoffs.measure.timing import no_sync
from tradeoffs.measure.window import training_window
from tradeoffs.models.numba import layout
from tradeoffs.records.history import Epoch, epochs_as_json, progress_line
from tradeoffs.records.nulls import NO_DEVICE_MEMORY, measured, not_binary
from tradeoffs.records.provenance import now, provenance
from tradeoffs.records.train import write_outputs
from tradeoffs.runspec import RunSpec
from tradeoffs.runtimes import DEFAULT as DEFAULT_RUNTIME
from tradeoffs.runtimes.base import Loaded, Runtime, UnsupportedError
from tradeoffs.runtimes.bench import EVAL_BATCH as CHECK_BATCH
from tradeoffs.seeding import epoch_order, usable_samples

INPUT_SHAPE = (layout.IMAGE, layout.IMAGE, 1)
CHECKPOINT = "checkpoint.npz"


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
    return provenance(spec, now())["cpu"]


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
    """The trained parameters (flat), the class count and the input standardisation; only an
    npz of plain arrays is read (`UnexpectedFormatError` otherwise)."""
    require(spec.model_path, FileFormat.NUMPY_ZIP)
    with np.load(spec.model_path, allow_pickle=False) as npz:
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


def train(spec: RunSpec, on_epoch_end: EpochHook | None = None) -> None:
    """Train and write model.npz, history.csv and train.json; one progress line per epoch.

    Every epoch ends with a checkpoint (`checkpoint.npz`: parameters, momentum, epochs so far),
    so a killed job resumes after its last finished epoch and ends bit-identical to an
    uninterrupted run. `on_epoch_end(epoch)` runs after it is on disk (tests simulate a kill).
    """
    started = now()
    _set_threads(spec)
    cfg = spec.train_cfg
    epochs, batch_size, lr, momentum = cfg["epochs"], cfg["batch_size"], cfg["lr"], cfg["momentum"]
    data = _data(spec)
    cut_x, cut_y = data.train_x[: cfg["limit_train"]], data.train_y[: cfg["limit_train"]]
    held = split_validation(cut_y, cfg, spec.seed)
    train_x, train_y = cut_x[held.train], cut_y[held.train]
    val_y = cut_y[held.val]
    norm = layout.Norm.of(train_x)
    theta = layout.initial_params(spec.seed, data.num_classes)
    model = _model(spec, theta, data.num_classes, norm, batch_size)
    xs, ys = model.resident(train_x), model.resident(train_y)
    test_xs = model.resident(data.test_x)
    val_xs = model.resident(cut_x[held.val]) if len(val_y) else None
    used = usable_samples(len(train_y), batch_size)
    compile_s = _compile(spec, theta, data.num_classes, norm, batch_size, xs, ys, test_xs)
    print(f"kernels compiled (or loaded from numba's cache) in {compile_s:.1f}s", flush=True)

    done: list[Epoch] = []
    chosen, best_theta, early_stopped = Selection(), None, False
    ckpt = spec.run_dir / CHECKPOINT
    saved = _load_checkpoint(ckpt, spec.config_hash)
    if saved is not None:
        theta, velocity, done, chosen, best_theta = saved
        model = _model(spec, theta, data.num_classes, norm, batch_size)
        model.velocity[:] = velocity
        early_stopped = chosen.should_stop(cfg["early_stopping"])
        print(f"resumed after epoch {len(done)}", flush=True)
    sync = _sync(spec)
    failure = None
    while len(done) < epochs and not early_stopped:
        epoch = len(done) + 1
        order = epoch_order(spec.seed, epoch, len(train_y))[:used]
        with training_window(sync) as window:
            loss, acc = model.train_epoch(xs, ys, order, batch_size, lr, momentum)
        val_loss, val_acc = None, None
        if len(val_y):  # held out only when something chooses on it
            val_probs, val_loss = _softmax_xent(model.logits(val_xs), val_y)
            val_acc = float((val_probs.argmax(axis=1) == val_y).mean())
        # the test set's learning curve: recorded, never chooses anything
        probs, test_loss = _softmax_xent(model.logits(test_xs), data.test_y)
        e = Epoch(
            epoch=epoch,
            samples=used,
            train_s=window.seconds,
            cpu_s=window.cpu_s,
            train_loss=loss,
            train_acc=acc,
            test_loss=test_loss,
            test_acc=float((probs.argmax(axis=1) == data.test_y).mean()),
            peak_rss_mb=window.peak_rss_mb,
            peak_vram_mb=_vram_mb(spec),
            val_loss=val_loss,
            val_acc=val_acc,
        )
        done.append(e)
        print(progress_line(e, epochs), flush=True)
        if not math.isfinite(loss):
            failure = f"training diverged: loss {loss} in epoch {epoch}"
            break
        if val_acc is not None:
            if chosen.update(epoch, val_loss, val_acc) and cfg["best_checkpoint"]:
                best_theta = model.params()
            early_stopped = chosen.should_stop(cfg["early_stopping"])
        _save_checkpoint(ckpt, spec.config_hash, model, done, chosen, best_theta)
        if on_epoch_end is not None:
            on_epoch_end(epoch)
    # The saved weights are the best epoch's when asked for (and the run did not fail), else
    # the last epoch's: best_epoch names whichever was saved.
    kept, saved_epoch = model.params(), len(done) or None
    if cfg["best_checkpoint"] and best_theta is not None and failure is None:
        kept, saved_epoch = best_theta, chosen.best_epoch
    _save(spec, kept, data.num_classes, norm)
    write_outputs(
        spec,
        done,
        best_epoch=saved_epoch,
        failure=failure,
        device_name=_device_name(spec),
        started=started,
        validation=held.provenance(cfg["validation_fraction"]),
        early_stopped=early_stopped,
        train_samples=len(train_y),
        **_model_facts(spec, data.num_classes),
    )
    ckpt.unlink(missing_ok=True)


def _sync(spec: RunSpec) -> Callable[[], None]:
    if spec.device == "cuda":
        from numba import cuda

        return cuda.synchronize
    return no_sync


def _host(array: Any) -> np.ndarray:
    """A copy on the host of a NumPy or numba device array."""
    return array.copy_to_host() if hasattr(array, "copy_to_host") else np.array(array)


def _save_checkpoint(
    path: Path,
    config_hash: str,
    model: Any,
    done: list[Epoch],
    chosen: Selection,
    best_theta: np.ndarray | None,
) -> None:
    """Parameters, momentum, the best epoch's parameters (if kept), the epochs so far and the
    selection state (as JSON text): arrays only, read back without pickle."""
    meta = {
        "config_hash": config_hash,
        "epochs": epochs_as_json(done),
        "selection": chosen.as_dict(),
    }
    best = {} if best_theta is None else {"best_theta": best_theta}
    with io.atomic_path(path) as tmp, tmp.open("wb") as handle:
        np.savez(
            handle,
            theta=_host(model.theta),
            velocity=_host(model.velocity),
            meta=np.array(json.dumps(meta)),
            **best,
        )


def _load_checkpoint(
    path: Path, config_hash: str
) -> tuple[np.ndarray, np.ndarray, list[Epoch], Selection, np.ndarray | None] | None:
    """The checkpoint's state if it was written under the same study config, else None."""
    if detect(path) is not FileFormat.NUMPY_ZIP:
        if path.exists():
            print(f"ignoring {path.name}: not a checkpoint this engine wrote", flush=True)
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            theta, velocity = npz["theta"], npz["velocity"]
            best_theta = npz["best_theta"] if "best_theta" in npz.files else None
    except (OSError, ValueError, KeyError) as error:
        print(f"ignoring {path.name}: not a checkpoint this engine wrote ({error})", flush=True)
        return None
    if meta["config_hash"] != config_hash:
        return None
    epochs = [Epoch.from_row(row) for row in meta["epochs"]]
    return theta, velocity, epochs, Selection.from_dict(meta["selection"]), best_theta


def predict(spec: RunSpec, dataset: str) -> Predictions:
    """Softmax probabilities of the trained model on `dataset`'s test split."""
    _set_threads(spec)
    theta, num_classes, norm = _load(spec)
    data = _data(spec, dataset)
    batch_size = spec.train_cfg["batch_size"]
    model = _model(spec, theta, num_classes, norm, batch_size)
    probs, loss = _softmax_xent(model.logits(model.resident(data.test_x)), data.test_y)
    return Predictions(probs=probs, labels=data.test_y, loss=loss)


def predictor(spec: RunSpec) -> Callable[[np.ndarray], np.ndarray]:
    """The model loaded once, as probabilities of uint8 NHWC images adapted as in predict (the
    dashboard's path)."""
    _set_threads(spec)
    theta, num_classes, norm = _load(spec)
    model = _model(spec, theta, num_classes, norm, spec.train_cfg["batch_size"])
    return lambda images: _softmax_xent(
        model.logits(model.resident(adapt_images(images, INPUT_SHAPE))), np.zeros(len(images), int)
    )[0]


def loaded(spec: RunSpec) -> Loaded:
    """The trained model and its test split, for the check and the sweep
    (`tradeoffs.runtimes`; numba's one runtime is `eager`, the kernels themselves).

    On CUDA one call runs on the device buffers as they are, so they are sized for the largest
    batch the runtime is called with: the sweep's batch sizes and the check's batches."""
    _set_threads(spec)
    theta, num_classes, norm = _load(spec)
    data = _data(spec)
    swept = SweepSettings.from_cfg(spec.bench_cfg, spec.throughput_batch).batch_sizes
    capacity = max(*swept, min(CHECK_BATCH, len(data.test_y)))
    model = _model(spec, theta, num_classes, norm, capacity)
    run = model.logits_device if spec.device == "cuda" else model.logits
    eager = Runtime(DEFAULT_RUNTIME, model.resident, run, _host, _sync(spec))

    def build(name: str) -> Runtime:
        if name != DEFAULT_RUNTIME:
            raise UnsupportedError(f"the numba engine has no {name} runtime")
        return eager

    return Loaded(model, data.test_x, data.test_y, build, lambda x, index: x[index])


def _model_facts(spec: RunSpec, num_classes: int) -> dict[str, Any]:
    """train.json's facts of the model just saved: parameters, sizes, MACs (fp32 throughout)."""
    params = layout.param_count(num_classes)
    macs = layout.macs(num_classes)
    return {
        "params": params,
        "size_disk_mb": spec.model_path.stat().st_size / 2**20,
        "size_mem_mb": params * 4 / 2**20,
        "est_footprint_mb": params * 4 / 2**20,
        "macs": macs,
        "flops": 2 * macs,
        **not_binary(),
    }


def benchmark(spec: RunSpec) -> dict[str, Any]:
    """bench/eager.json's device facts: the device and its memory. The model's own facts are
    train.json's; the timing keys come from the sweep (`tradeoffs.runtimes.bench`), which
    times the model as every runtime is timed."""
    return {
        **measured("bench_peak_vram_mb", _vram_mb(spec), NO_DEVICE_MEMORY),
        "bench_device_name": _device_name(spec),
    }
