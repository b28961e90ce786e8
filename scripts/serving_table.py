"""A study's serving tables from its runs' serving/{runtime}.json: serving.csv/.md (one row per
run and runtime), serving_levels.csv (one row per load level) and the latency-against-offered-
load figure."""

import argparse
from pathlib import Path

from tradeoffs import io
from tradeoffs.analysis import aggregate, style
from tradeoffs.analysis.figures.serving import serving_latency
from tradeoffs.analysis.serving import key_table, read_serving


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serving", type=Path, nargs="+", required=True)
    parser.add_argument("--out-dir", type=Path, required=True, help="the study's tables/")
    parser.add_argument("--figure", type=Path, required=True)
    parser.add_argument("--title", default="")
    args = parser.parse_args()
    serving, levels = read_serving(args.serving)
    with io.atomic_path(args.out_dir / "serving.csv") as tmp:
        serving.to_csv(tmp, index=False)
    with io.atomic_path(args.out_dir / "serving_levels.csv") as tmp:
        levels.to_csv(tmp, index=False)
    io.write_text(args.out_dir / "serving.md", aggregate.to_markdown(key_table(serving)))
    figure = serving_latency(levels, serving)
    style.save(figure, args.figure, f"{args.title}latency against offered load")
    print(f"{len(serving)} serving records, {len(levels)} load levels -> {args.out_dir}")


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
