"""Download one official dataset archive (or, offline, check that it has been placed)."""

import argparse
import json
import sys

from tradeoffs import io
from tradeoffs.data import DataError
from tradeoffs.data.download import download
from tradeoffs.data.sources import remote_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", required=True, help="dataset format, e.g. cifar10")
    parser.add_argument("--filename", required=True, help="official archive name")
    parser.add_argument("--output", required=True)
    network = parser.add_mutually_exclusive_group()
    network.add_argument("--offline", dest="offline", action="store_true", help="never download")
    network.add_argument("--online", dest="offline", action="store_false")
    parser.add_argument("--mirrors", default="[]", help="JSON list of base URLs tried first")
    args = parser.parse_args()
    try:
        remote = remote_file(args.source, args.filename, json.loads(args.mirrors))
        download(remote, args.output, offline=args.offline)
    except (DataError, KeyError) as error:
        sys.exit(f"download failed: {error.args[0] if error.args else error}")


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
