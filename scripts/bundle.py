"""Pack this machine's runs into results/bundles/{host}.tar.gz (tradeoffs.bundle)."""

import argparse
import json
import sys
from pathlib import Path

from tradeoffs import io
from tradeoffs.bundle import BundleError, write_bundle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=Path, required=True, help="the config's results_dir")
    parser.add_argument("--host", required=True, help="this machine's name (config `host:`)")
    parser.add_argument("--config-json", required=True, help="the checked config, as JSON")
    parser.add_argument("--models", action="store_true", help="carry the model files too")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    config = json.loads(args.config_json)
    try:
        manifest = write_bundle(args.results, args.host, config, args.output, models=args.models)
    except BundleError as error:
        sys.exit(f"bundle refused: {error}")
    print(f"{len(manifest['files'])} files of host {args.host} -> {args.output}")


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
