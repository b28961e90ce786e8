"""Serve one trained run under one runtime -> serving/{runtime}.json: the highest Poisson
request rate whose p99 meets the study's `serving.p99_ms`, and the multi-stream levels."""

from tradeoffs.jobs import cli
from tradeoffs.jobs.serving import serve

if __name__ == "__main__":
    cli.run(__doc__, serve, *cli.RUNTIME_OPTIONS)
