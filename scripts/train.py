"""Train one run, then evaluate it on its own dataset's test split: writes the model file,
history.csv, train.json and eval/{dataset}.json (with its confusion matrix and report) into the
run folder (`tradeoffs.jobs.train`)."""

from tradeoffs.jobs import cli
from tradeoffs.jobs.train import train

if __name__ == "__main__":
    cli.run(__doc__, train)
