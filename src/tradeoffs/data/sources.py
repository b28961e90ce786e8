"""Official sources of the downloaded datasets: file names, mirrors and published checksums."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class RemoteFile:
    name: str
    md5: str
    urls: tuple[str, ...]  # mirrors, tried in order


_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)


def _mnist(name: str, md5: str) -> RemoteFile:
    return RemoteFile(name, md5, tuple(base + name for base in _MNIST_MIRRORS))


SOURCES: dict[str, tuple[RemoteFile, ...]] = {
    "mnist": (
        _mnist("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        _mnist("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        _mnist("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        _mnist("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ),
    "cifar10": (
        RemoteFile(
            "cifar-10-python.tar.gz",
            "c58f30108f718f92721af3b95e74349a",
            ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
        ),
    ),
    "cifar100": (
        RemoteFile(
            "cifar-100-python.tar.gz",
            "eb9058c3a382ffc7106e4002c42a8d85",
            ("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",),
        ),
    ),
    # Edinburgh DataShare (doi:10.7488/ds/2448), current host then its former name. Neither the
    # DataShare page nor the BayesWatch/cinic-10 README prints a checksum; this md5 is the one
    # independent loaders agree on (archive of 687,544,992 bytes). A mismatch fails loudly.
    "cinic10": (
        RemoteFile(
            "CINIC-10.tar.gz",
            "6ee4d0c996905fe93221de577967a372",
            (
                "https://datashare.ed.ac.uk/bitstream/handle/10283/3192/CINIC-10.tar.gz",
                "https://datashare.is.ed.ac.uk/bitstream/handle/10283/3192/CINIC-10.tar.gz",
            ),
        ),
    ),
}


def archive_names(fmt: str) -> list[str]:
    """File names a dataset format is prepared from; empty for formats built locally."""
    return [remote.name for remote in SOURCES.get(fmt, ())]


def remote_file(fmt: str, name: str, mirrors: Iterable[str] = ()) -> RemoteFile:
    """The source of one archive, with the config's mirrors (base URLs, to which the file name
    is appended) tried before the official URLs."""
    matches = [remote for remote in SOURCES.get(fmt, ()) if remote.name == name]
    if not matches:
        known = ", ".join(archive_names(fmt)) or "none"
        raise KeyError(f"{name!r} is not an archive of {fmt!r} (its archives: {known})")
    remote = matches[0]
    extra = tuple(f"{base.rstrip('/')}/{name}" for base in mirrors)
    return RemoteFile(remote.name, remote.md5, extra + remote.urls)
