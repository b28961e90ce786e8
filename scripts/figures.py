"""Draw named figures (see tradeoffs.analysis.figures.FIGURES) from a runs table into a folder,
redrawing only those whose inputs changed since their PNG was drawn."""

import argparse
from pathlib import Path

from tradeoffs import io
from tradeoffs.analysis.figures import FIGURES
from tradeoffs.analysis.figures.redraw import draw_stale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--figures", choices=sorted(FIGURES), nargs="+", required=True)
    parser.add_argument("--runs", type=Path, required=True, help="runs.csv of a study or summary")
    parser.add_argument("--history", type=Path, nargs="*", default=[], help="runs' history.csv")
    parser.add_argument("--eval", type=Path, nargs="*", default=[], help="runs' eval CSVs")
    parser.add_argument("--title", default="", help="prefix of the figures' titles, e.g. the study")
    parser.add_argument("--out-dir", type=Path, required=True, help="where {figure}.png go")
    args = parser.parse_args()
    records = {"history": args.history, "eval": args.eval}
    drawn = draw_stale(args.figures, args.runs, records, args.out_dir, title_prefix=args.title)
    for name in args.figures:
        print(f"{name} -> {args.out_dir / f'{name}.png'}: {'drawn' if name in drawn else 'kept'}")


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
