"""Import a model already trained (a study's `pretrained:` entry) as one run's model, in place
of training: writes the model file, a header-only history.csv and train.json (the source file's
sha256 in its provenance), then evaluates it on its own dataset's test split as train.py does."""

import argparse
import sys

from tradeoffs import io
from tradeoffs.data import DataError
from tradeoffs.eval_records import write_evaluation
from tradeoffs.fileformat import UnexpectedFormatError
from tradeoffs.pretrained import PretrainedError
from tradeoffs.runspec import add_run_arguments, spec_from_args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_run_arguments(parser)
    spec = spec_from_args(parser.parse_args())
    if spec.framework == "torch":
        from tradeoffs.engines.torch.pretrained import import_file
    else:
        from tradeoffs.engines.keras.pretrained import import_file
    try:
        import_file(spec)
        summary = write_evaluation(spec, spec.dataset)
    except (PretrainedError, UnexpectedFormatError, DataError) as error:
        sys.exit(f"import of {spec.model} failed: {error}")
    print(f"{spec.dataset}: {summary}")


if __name__ == "__main__":
    with io.full_disk_exits():
        main()
