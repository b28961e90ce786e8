"""Serve one trained run under one runtime -> serving/{runtime}.json: the highest Poisson
request rate whose p99 meets the study's `serving.p99_ms`, and the multi-stream levels."""

import argparse
import sys
from pathlib import Path

from tradeoffs import io
from tradeoffs.data import DataError
from tradeoffs.fileformat import UnexpectedFormatError
from tradeoffs.runspec import add_run_arguments, spec_from_args
from tradeoffs.serving.record import serving_record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_run_arguments(parser)
    parser.add_argument("--runtime", required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    try:
        record = serving_record(spec_from_args(args), args.runtime)
    except (DataError, UnexpectedFormatError) as error:
        sys.exit(f"serving failed: {error}")
    io.write_json(args.output, record)
    print({k: v for k, v in record.items() if k not in ("points", "multistream")})


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
