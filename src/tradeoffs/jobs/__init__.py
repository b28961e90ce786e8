"""What each per-run job does, one function per job, each taking the run (`RunSpec`) and the
paths it reads and writes: `train.train`, `pretrained.import_pretrained`, `evaluate.evaluate`,
`evaluate.evaluate_corrupted`, `benchmark.benchmark`, `serving.serve`, `metrics.write_metrics`
and `skip.skip`. The records they write are `tradeoffs.records`'s; a script in scripts/ parses
the run's identity and calls one of them (`jobs.cli.run`).

A job stopped by a user's mistake or bad data raises `JobError`, whose one-line message (what
went wrong and the fix) the CLI exits with, without a traceback.
"""


class JobError(Exception):
    """A job cannot go on; the message names the problem and the fix."""
