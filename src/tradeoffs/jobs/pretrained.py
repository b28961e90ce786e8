"""The import job: a model already trained (a study's `pretrained:` entry) becomes one run's
model in place of training (the model file, a header-only history.csv, train.json with the
source file's sha256 in its provenance), then is evaluated on its own dataset as `train` does."""

from __future__ import annotations

from tradeoffs.data import DataError
from tradeoffs.fileformat import UnexpectedFormatError
from tradeoffs.jobs import JobError
from tradeoffs.jobs.evaluate import write_evaluation
from tradeoffs.pretrained import PretrainedError
from tradeoffs.runspec import RunSpec


def import_pretrained(spec: RunSpec) -> None:
    """Import the run's `pretrained:` file as its model, then evaluate it."""
    if spec.framework == "torch":
        from tradeoffs.engines.torch.pretrained import import_file
    else:
        from tradeoffs.engines.keras.pretrained import import_file
    try:
        import_file(spec)
        summary = write_evaluation(spec, spec.dataset)
    except (PretrainedError, UnexpectedFormatError, DataError) as error:
        raise JobError(f"import of {spec.model} failed: {error}") from None
    print(f"{spec.dataset}: {summary}")
