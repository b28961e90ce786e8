"""Prepare one dataset into uint8 NHWC arrays and meta.json (see docs/architecture.md)."""

import argparse
import json
import sys

from tradeoffs import io
from tradeoffs.data import DataError
from tradeoffs.data.prepare import prepare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--spec", required=True, help="the dataset's config entry, as JSON")
    parser.add_argument("--downloads", required=True, help="folder of {format}/{archive}")
    parser.add_argument("--output-dir", required=True)
    args = parser.parse_args()
    try:
        prepare(args.dataset, json.loads(args.spec), args.downloads, args.output_dir)
    except DataError as error:
        sys.exit(f"prepare {args.dataset} failed: {error}")


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
