"""A study's runtime tables from its runs' bench/{runtime}.json: runtimes.csv/.md (one row per
run and runtime; with the study's accuracy_target, each runtime tested against its eager model
and runtimes.md opening with which meet it), sweep.csv (one row per batch size) and the
throughput-versus-batch figure."""

import argparse
import json
from pathlib import Path

from tradeoffs import io
from tradeoffs.analysis import accuracy_target, aggregate, style
from tradeoffs.analysis.figures.runtimes import throughput_batch
from tradeoffs.analysis.runtimes import key_table, read_bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bench", type=Path, nargs="+", required=True)
    parser.add_argument("--out-dir", type=Path, required=True, help="the study's tables/")
    parser.add_argument("--figure", type=Path, required=True)
    parser.add_argument("--title", default="")
    parser.add_argument("--study-json", default="{}", help="the study's config, as JSON")
    args = parser.parse_args()
    runtimes, sweep = read_bench(args.bench)
    target = json.loads(args.study_json).get("accuracy_target")
    runtimes = accuracy_target.with_runtime_target(runtimes, target)
    with io.atomic_path(args.out_dir / "runtimes.csv") as tmp:
        runtimes.to_csv(tmp, index=False)
    with io.atomic_path(args.out_dir / "sweep.csv") as tmp:
        sweep.to_csv(tmp, index=False)
    text = aggregate.to_markdown(key_table(runtimes))
    sentence = accuracy_target.runtime_target_sentence(runtimes, target)
    io.write_text(args.out_dir / "runtimes.md", f"{sentence}\n\n{text}" if sentence else text)
    style.save(throughput_batch(sweep), args.figure, f"{args.title}throughput against batch size")
    print(f"{len(runtimes)} runtime records, {len(sweep)} sweep points -> {args.out_dir}")


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
