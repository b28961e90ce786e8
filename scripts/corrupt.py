"""Derive one corrupted test set from a prepared dataset (see docs/architecture.md)."""

import argparse
from pathlib import Path

from tradeoffs import io
from tradeoffs.data.corrupted import derive
from tradeoffs.registry import CORRUPTIONS, SEVERITIES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-dir", type=Path, required=True, help="the prepared dataset")
    parser.add_argument("--corruption", choices=CORRUPTIONS, required=True)
    parser.add_argument("--severity", type=int, choices=SEVERITIES, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    args = parser.parse_args()
    derive(args.base_dir, args.output_dir, args.corruption, args.severity, args.seed)


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
