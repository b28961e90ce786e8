"""Derive a corrupted test set (CIFAR-10-C's way) from a prepared dataset, in the prepared format.

The new folder holds the base dataset's test split under one corruption at one severity and an
empty training split (a corrupted set is only evaluated on); its meta.json, written last, names
the base dataset, the corruption, the severity and the seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tradeoffs import io
from tradeoffs.data import Log
from tradeoffs.data.corruptions import PARAMS, corrupt
from tradeoffs.data.prepare import save_array
from tradeoffs.data.prepared import ARRAYS, load_array, load_meta
from tradeoffs.registry import corrupted_name


def derive(
    base_dir: str | Path,
    output_dir: str | Path,
    corruption: str,
    severity: int,
    seed: int,
    log: Log = print,
) -> dict[str, Any]:
    """Write `base_dir`'s test split under `corruption` at `severity` into `output_dir`; returns
    the meta written."""
    base_dir, output_dir = Path(base_dir), Path(output_dir)
    (output_dir / "meta.json").unlink(missing_ok=True)  # the folder is incomplete from here on
    base = load_meta(base_dir)
    test_x = load_array(base_dir, "test_x", base)
    arrays = {
        "train_x": np.zeros((0, *test_x.shape[1:]), dtype=np.uint8),
        "train_y": np.zeros(0, dtype=np.int64),
        "test_x": corrupt(test_x, corruption, severity, seed),
        "test_y": load_array(base_dir, "test_y", base),
    }
    records = {name: save_array(output_dir / f"{name}.npy", arrays[name]) for name in ARRAYS}
    spec = {"base": base["name"], "corruption": corruption, "severity": severity, "seed": seed}
    meta = {
        "name": corrupted_name(base["name"], corruption, severity),
        "format": base["format"],
        "classes": base["classes"],
        "num_classes": base["num_classes"],
        "shape": base["shape"],
        "train_count": 0,
        "test_count": len(arrays["test_y"]),
        "sources": base["sources"],
        "source_digest": None,
        "arrays": records,
        "spec": spec,
        **spec,
        "parameter": PARAMS[corruption][severity - 1],
    }
    io.write_json(output_dir / "meta.json", meta)
    change = np.abs(arrays["test_x"].astype(np.float64) - test_x).mean()
    log(
        f"{meta['name']}: {meta['test_count']} test images of {base['name']} under {corruption} "
        f"at severity {severity} (seed {seed}), mean absolute change {change:.2f} / 255 "
        f"-> {output_dir}"
    )
    return meta
