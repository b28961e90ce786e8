"""Import a model already trained (a study's `pretrained:` entry) as one run's model, in place
of training: writes the model file, a header-only history.csv and train.json (the source file's
sha256 in its provenance), then evaluates it on its own dataset's test split as train.py does."""

from tradeoffs.jobs import cli
from tradeoffs.jobs.pretrained import import_pretrained

if __name__ == "__main__":
    cli.run(__doc__, import_pretrained)
