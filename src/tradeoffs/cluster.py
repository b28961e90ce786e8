"""The nodes of a SLURM cluster and the jobs none of them can run, known before submission.

A job asking for more CPUs, memory or GPUs than any node has would stay PENDING forever (or
fail in sbatch); the workflow refuses it before the first submission instead, with the numbers.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tradeoffs.configerror import ConfigError

STATED = {"cores": "cores_per_node", "mem_mb": "mem_mb_per_node", "gpus": "gpus_per_node"}


@dataclass(frozen=True)
class Node:
    cores: int
    mem_mb: int
    gpus: int

    def fits(self, cores: int, mem_mb: int, gpus: int) -> bool:
        return cores <= self.cores and mem_mb <= self.mem_mb and gpus <= self.gpus


def _order(node: Node) -> tuple[int, int, int]:
    return (node.cores, node.mem_mb, node.gpus)


def parse_gpus(gres: str) -> int:
    """GPUs in sinfo's %G field, e.g. `gpu:a100:4(S:0-1),tmpdisk:100` -> 4; `(null)` -> 0."""
    total = 0
    for item in gres.split(","):
        match = re.fullmatch(r"gpu(?::[^:(]+)?:(\d+)(?:\(.*\))?", item.strip())
        if match:
            total += int(match.group(1))
    return total


def parse_sinfo(text: str) -> list[Node]:
    """Nodes from `sinfo -h -N -o '%c|%m|%G'` (one line per node and partition)."""
    nodes = set()
    for line in text.splitlines():
        if line.strip():
            cores, mem_mb, gres = line.split("|")
            nodes.add(Node(int(cores.rstrip("+")), int(mem_mb.rstrip("+")), parse_gpus(gres)))
    return sorted(nodes, key=_order)


def read_nodes(stated: Mapping[str, int]) -> list[Node]:
    """The cluster's node shapes: sinfo's, with each number the config states replacing it."""
    given = {field: stated[key] for field, key in STATED.items() if key in stated}
    if len(given) == len(STATED):
        return [Node(**given)]
    if shutil.which("sinfo") is None:
        missing = ", ".join(f"cluster.{STATED[f]}" for f in STATED if f not in given)
        raise ConfigError(
            f"cluster.scheduler is slurm but `sinfo` is not on PATH, so the nodes' shape is "
            f"unknown. Run Snakemake where SLURM's commands are, or state {missing}."
        )
    result = subprocess.run(
        ["sinfo", "-h", "-N", "-o", "%c|%m|%G"], capture_output=True, text=True, check=False
    )
    nodes = parse_sinfo(result.stdout) if result.returncode == 0 else []
    if not nodes:
        raise ConfigError(f"`sinfo` listed no nodes: {result.stderr.strip() or result.stdout}")
    return sorted({Node(**{**vars(n), **given}) for n in nodes}, key=_order)


def has_gpus(nodes: Iterable[Node]) -> bool:
    return any(node.gpus for node in nodes)


def unsatisfiable(jobs: Iterable[tuple[str, int, int, int]], nodes: list[Node]) -> list[str]:
    """One line per distinct (rule, cores, memory, GPUs) request that fits on no node."""
    largest = (
        f"the largest node has {max(n.cores for n in nodes)} CPUs, "
        f"{max(n.mem_mb for n in nodes)} MB memory, {max(n.gpus for n in nodes)} GPUs"
    )
    problems = []
    for rule, cores, mem_mb, gpus in sorted(set(jobs)):
        if not any(node.fits(cores, mem_mb, gpus) for node in nodes):
            problems.append(
                f"{rule}: asks for {cores} CPUs, {mem_mb} MB memory, {gpus} GPUs; {largest}"
            )
    return problems
