"""A prepared `digits` folder for engine tests, written by the data layer's own `prepare`."""

from __future__ import annotations

from pathlib import Path

from tradeoffs.data.prepare import prepare


def write_prepared_digits(
    data_dir: Path, train_per_class: int | None = None, test_per_class: int | None = None
) -> Path:
    """`{data_dir}/prepared/digits/` (80/20 split; optionally N images per class); returns
    `data_dir`."""
    spec: dict[str, object] = {"format": "digits"}
    if train_per_class:
        spec["train_per_class"] = train_per_class
    if test_per_class:
        spec["test_per_class"] = test_per_class
    prepare(
        "digits",
        spec,
        data_dir / "downloads",
        data_dir / "prepared" / "digits",
        log=lambda *_: None,
    )
    return data_dir
