"""Every record of a run whose backend this host or cluster lacks, in one process: the train
outputs, eval/{dataset}.json for each dataset it would be evaluated on, bench/eager.json and
metrics.json, each saying `skipped` and why."""

from pathlib import Path

from tradeoffs.jobs import cli
from tradeoffs.jobs.skip import skip

if __name__ == "__main__":
    cli.run(
        __doc__,
        skip,
        cli.option("--reason", required=True, help="why the backend cannot run here"),
        cli.option("--eval-datasets", nargs="+", required=True),
        cli.option("--runtime", required=True),
        cli.option("--bench", type=Path, required=True),
        cli.option("--time-to-accuracy-fraction", dest="fraction", type=float, required=True),
        cli.option("--output", type=Path, required=True, help="metrics.json"),
    )
