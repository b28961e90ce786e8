"""Draw one named figure (see tradeoffs.analysis.figures.FIGURES) from a runs table."""

import argparse
from pathlib import Path

import pandas as pd

from tradeoffs import io
from tradeoffs.analysis.figures import FIGURES
from tradeoffs.analysis.figures.draw import draw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--figure", choices=sorted(FIGURES), required=True)
    parser.add_argument("--runs", type=Path, required=True, help="runs.csv of a study or summary")
    parser.add_argument("--title", default="", help="prefix of the figure's title, e.g. the study")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    draw(args.figure, pd.read_csv(args.runs), args.output, title_prefix=args.title)
    print(f"{args.figure} -> {args.output}")


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
