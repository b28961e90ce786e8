"""Import other machines' bundles into a results directory's hosts/{host}/ (tradeoffs.bundle):
every checksum verified first, nothing written on a refusal."""

import argparse
import sys
from pathlib import Path

import yaml

from tradeoffs import io
from tradeoffs.bundle import BundleError, import_bundle
from tradeoffs.config import ConfigError, check_config
from tradeoffs.fingerprint import host_name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bundles", type=Path, nargs="+", help="results/bundles/{host}.tar.gz")
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--results", type=Path, help="default: the config's results_dir")
    args = parser.parse_args()
    try:
        config = check_config(yaml.safe_load(args.config.read_text()))
    except (OSError, ConfigError) as error:
        sys.exit(f"Config error:\n{error}")
    results = args.results or Path(config["results_dir"])
    local = host_name(config["host"])
    for bundle in args.bundles:
        try:
            done = import_bundle(bundle, results, local_host=local)
        except BundleError as error:
            sys.exit(f"import refused: {error}")
        print(
            f"{bundle}: host {done['host']}, {len(done['new'])} new runs, "
            f"{len(done['identical'])} already identical -> {results}/hosts/{done['host']}"
        )


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
