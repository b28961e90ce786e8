"""Benchmark one trained run under one runtime -> bench/{runtime}.json: the runtime checked
against eager, then a batch-size sweep (eager adds the device facts)."""

from tradeoffs.jobs import cli
from tradeoffs.jobs.benchmark import benchmark

if __name__ == "__main__":
    cli.run(__doc__, benchmark, *cli.RUNTIME_OPTIONS)
