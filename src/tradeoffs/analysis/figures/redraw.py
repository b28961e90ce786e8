"""Draw a study's figures in one process, redrawing only those whose inputs changed.

One job per study draws all of its figures (one start-up of pandas and matplotlib instead of
one per figure). Snakemake reruns that job when any figure's inputs change, but keeps its PNGs
(the rule's outputs are `update()`), and this module decides per figure: a PNG stores the
digest of what it was drawn from (its spec, title, the module that draws it, the style module,
the runs table and the record files it reads) in a PNG text field; a figure whose digest is
unchanged is not drawn again, only touched, so Snakemake sees it as newer than its inputs.
Editing one figure's module therefore redraws the figures that module draws and no other.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd
from PIL import Image

from tradeoffs.analysis import style
from tradeoffs.analysis.figures import FIGURES
from tradeoffs.analysis.figures.draw import draw

DIGEST_KEY = "tradeoffs-inputs-sha256"


def inputs_digest(
    name: str, title_prefix: str, runs: Path, records: Mapping[str, Sequence[Path]]
) -> str:
    """sha256 of everything figure `name` is drawn from; `records` maps each kind a figure may
    need ("history", "eval") to the files of that kind."""
    spec = FIGURES[name]
    digest = hashlib.sha256(repr((name, spec, title_prefix)).encode())
    files = [spec.source, Path(style.__file__), runs]
    files += [path for need in spec.needs for path in records.get(need, ())]
    for path in files:
        digest.update(str(path).encode() + b"\0" + Path(path).read_bytes())
    return digest.hexdigest()


def drawn_digest(png: Path) -> str | None:
    """The digest a PNG was drawn with; None for a missing or unreadable file."""
    try:
        with Image.open(png) as image:
            return getattr(image, "text", {}).get(DIGEST_KEY)
    except (OSError, SyntaxError):
        return None


def draw_stale(
    names: Iterable[str],
    runs: Path,
    records: Mapping[str, Sequence[Path]],
    out_dir: Path,
    title_prefix: str = "",
) -> list[str]:
    """Write `out_dir/{name}.png` for each figure whose inputs differ from those its PNG was
    drawn from; touch the others. Returns the names drawn."""
    table: pd.DataFrame | None = None
    drawn = []
    for name in names:
        output = out_dir / f"{name}.png"
        digest = inputs_digest(name, title_prefix, runs, records)
        if drawn_digest(output) == digest:
            os.utime(output)
            continue
        if table is None:
            table = pd.read_csv(runs)
        draw(name, table.copy(), output, title_prefix=title_prefix, metadata={DIGEST_KEY: digest})
        drawn.append(name)
    return drawn
