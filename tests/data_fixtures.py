"""Small archives in the official dataset formats, and a loopback HTTP server to serve them.

Each builder returns ({file name: bytes}, the arrays the archive holds) so a test can compare
what was prepared with what was packed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import subprocess
import sys
import tarfile
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image

from tradeoffs.data import Arrays
from tradeoffs.data.sources import RemoteFile

CIFAR10_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _images(rng: np.random.Generator, n: int, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def mnist_files(n_train: int = 20, n_test: int = 10) -> tuple[dict[str, bytes], Arrays]:
    rng = np.random.default_rng(1)
    train_x, test_x = _images(rng, n_train, (28, 28)), _images(rng, n_test, (28, 28))
    train_y, test_y = np.arange(n_train) % 10, (np.arange(n_test) * 3) % 10
    files = {
        "train-images-idx3-ubyte.gz": _idx(train_x),
        "train-labels-idx1-ubyte.gz": _idx(train_y),
        "t10k-images-idx3-ubyte.gz": _idx(test_x),
        "t10k-labels-idx1-ubyte.gz": _idx(test_y),
    }
    classes = [str(d) for d in range(10)]
    return files, Arrays(train_x[..., None], train_y, test_x[..., None], test_y, classes)


def _cifar_rows(x: np.ndarray) -> np.ndarray:
    return x.transpose(0, 3, 1, 2).reshape(len(x), -1)  # NHWC -> rows of R, G, B planes


def cifar10_files(per_batch: int = 4, n_test: int = 6) -> tuple[dict[str, bytes], Arrays]:
    rng = np.random.default_rng(2)
    train_x = _images(rng, 5 * per_batch, (32, 32, 3))
    train_y = np.arange(5 * per_batch) % 10
    test_x, test_y = _images(rng, n_test, (32, 32, 3)), (np.arange(n_test) * 7) % 10
    members = {}
    for i in range(5):
        part = slice(i * per_batch, (i + 1) * per_batch)
        batch = {"data": _cifar_rows(train_x[part]), "labels": train_y[part].tolist()}
        members[f"cifar-10-batches-py/data_batch_{i + 1}"] = pickle.dumps(batch, protocol=2)
    test = {"data": _cifar_rows(test_x), "labels": test_y.tolist()}
    members["cifar-10-batches-py/test_batch"] = pickle.dumps(test, protocol=2)
    meta = {"label_names": CIFAR10_CLASSES, "num_cases_per_batch": per_batch}
    members["cifar-10-batches-py/batches.meta"] = pickle.dumps(meta, protocol=2)
    files = {"cifar-10-python.tar.gz": _tar_gz(members)}
    return files, Arrays(train_x, train_y, test_x, test_y, CIFAR10_CLASSES)


def cifar100_files(n_train: int = 12, n_test: int = 5) -> tuple[dict[str, bytes], Arrays]:
    rng = np.random.default_rng(3)
    classes = [f"fine{i:02d}" for i in range(100)]
    train_x, test_x = _images(rng, n_train, (32, 32, 3)), _images(rng, n_test, (32, 32, 3))
    train_y, test_y = (np.arange(n_train) * 9) % 100, (np.arange(n_test) * 31) % 100

    def split(x: np.ndarray, y: np.ndarray) -> bytes:
        data = {"data": _cifar_rows(x), "fine_labels": y.tolist(), "coarse_labels": [0] * len(y)}
        return pickle.dumps(data, protocol=2)

    meta = {"fine_label_names": classes, "coarse_label_names": [f"coarse{i}" for i in range(20)]}
    members = {
        "cifar-100-python/train": split(train_x, train_y),
        "cifar-100-python/test": split(test_x, test_y),
        "cifar-100-python/meta": pickle.dumps(meta, protocol=2),
    }
    return {"cifar-100-python.tar.gz": _tar_gz(members)}, Arrays(
        train_x, train_y, test_x, test_y, classes
    )


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def cinic10_files(per_class: dict[str, int]) -> dict[str, bytes]:
    """CINIC-10's layout, names mixing its CIFAR part (cifar10-*) and ImageNet part (n*) as the
    original does. Red is 20 * class (a label check); green is 1 for the CIFAR part, else 0."""
    members = {}
    for split, n in per_class.items():
        for label, cls in enumerate(CIFAR10_CLASSES):
            for k in range(n):
                cifar = k % 2
                name = f"cifar10-{split}-{k}.png" if cifar else f"n0{label}_{k}.png"
                image = np.zeros((32, 32, 3), dtype=np.uint8)
                image[..., 0], image[..., 1] = 20 * label, cifar
                members[f"{split}/{cls}/{name}"] = png(image)
    return {"CINIC-10.tar.gz": _tar_gz(members)}


class FileServer:
    """A loopback HTTP server of in-memory files that honours Range requests and can be told
    to fail the next requests of a path: "500", "cut" (close half way), "wrong" (bad bytes)."""

    def __init__(self, files: dict[str, bytes]):
        self.files = dict(files)
        self.faults: dict[str, list[str]] = defaultdict(list)
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{path.lstrip('/')}"

    def remote(self, name: str, *prefixes: str) -> RemoteFile:
        """The file `name` as a source: one URL per path prefix ("" for the root)."""
        urls = tuple(self.url(f"{prefix}/{name}") for prefix in prefixes or ("",))
        return RemoteFile(name, md5(self.files[name]), urls)

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (the http.server name)
                path, byte_range = self.path, self.headers.get("Range")
                server.requests.append((path, byte_range))
                fault = server.faults[path].pop(0) if server.faults[path] else None
                body = server.files.get(path.rsplit("/", 1)[-1])
                if body is None or fault == "404":
                    self.send_error(404)
                    return
                if fault == "500":
                    self.send_error(500)
                    return
                if fault == "wrong":
                    body = bytes(b ^ 0xFF for b in body)
                start = int(byte_range.split("=")[1].split("-")[0]) if byte_range else 0
                if start >= len(body) > 0:
                    self.send_error(416)
                    return
                self.send_response(206 if byte_range else 200)
                if byte_range:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                payload = body[start:]
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 2] if fault == "cut" else payload)

        return Handler


def place(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def snakemake_target(config: Path, target: Path) -> subprocess.CompletedProcess:
    """Run the workflow of this checkout on `config` for one target file."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "--configfile", str(config)]
        + ["--nolock", str(target)],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
