"""Evaluate one trained run on another (`eval_on`) dataset: eval/{d}.json, the confusion
matrix, the per-class report. The train job writes the run's own dataset's."""

from tradeoffs.jobs import cli
from tradeoffs.jobs.evaluate import evaluate

if __name__ == "__main__":
    cli.run(__doc__, evaluate, cli.option("--eval-dataset", required=True))
