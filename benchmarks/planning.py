"""Planning cost of the pipeline's DAG against Snakemake's own floor.

Plans (`snakemake -n`, each in its own process, against an empty results folder) the paper
preset (`configs/paper.yaml`) at 1 seed and at 5 seeds per study, and a generated bare
Snakefile of four chained shell rules with the same number of jobs; prints both wall times,
the job counts, the milliseconds per job and the ratio of the two per-job costs, in wall time
and in CPU time (the process's user and system seconds: what a machine shared with other work
inflates least). The two plans of a size run one after the other.

    python benchmarks/planning.py [--seeds 1 5] [--preset configs/paper.yaml]
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BARE_RULES = """\
N = int(config["samples"])


rule all:
    input:
        expand("d/{i}.txt", i=range(N)),


rule a:
    output:
        "a/{i}.txt",
    shell:
        "touch {output}"


rule b:
    input:
        "a/{i}.txt",
    output:
        "b/{i}.txt",
    shell:
        "touch {output}"


rule c:
    input:
        "b/{i}.txt",
    output:
        "c/{i}.txt",
    shell:
        "touch {output}"


rule d:
    input:
        "c/{i}.txt",
    output:
        "d/{i}.txt",
    shell:
        "touch {output}"
"""


def plan(snakefile: Path, workdir: Path, *options: str) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and jobs of one dry run (a fresh process, as a user's
    `snakemake -n`)."""
    command = [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "-s", str(snakefile)]
    command += ["--directory", str(workdir), *options]
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=workdir)
    seconds = time.perf_counter() - start
    cpu = _children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    totals = re.findall(r"^total\s+(\d+)", done.stdout + done.stderr, flags=re.MULTILINE)
    if not totals:
        sys.exit(f"no job count in the output of {' '.join(command)}")
    return seconds, cpu, int(totals[-1])


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def preset_with_seeds(preset: Path, seeds: int, out: Path) -> Path:
    """The preset with every study at seeds 0..seeds-1, its data and results under `out`."""
    config = yaml.safe_load(preset.read_text())
    for study in config["studies"].values():
        study["seeds"] = list(range(seeds))
    config["data_dir"] = str(out / "data")
    config["results_dir"] = str(out / "results")
    path = out / f"preset-{seeds}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--preset", type=Path, default=ROOT / "configs" / "paper.yaml")
    args = parser.parse_args()

    print(f"{'plan':<26}{'jobs':>7}{'wall s':>8}{'ms/job':>8}{'CPU s':>8}{'ms/job':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bare = tmp / "bare" / "Snakefile"
        bare.parent.mkdir()
        bare.write_text(BARE_RULES)
        for seeds in args.seeds:
            work = tmp / f"preset-{seeds}"
            work.mkdir()
            configfile = preset_with_seeds(args.preset, seeds, work)
            preset = plan(ROOT / "Snakefile", work, "--configfile", str(configfile))
            samples = max(1, (preset[2] - 1) // 4)  # four jobs per sample, plus `all`
            bare_work = tmp / f"bare-{seeds}"
            bare_work.mkdir()
            baseline = plan(bare, bare_work, "--config", f"samples={samples}")
            rows = {
                f"{args.preset.stem}, {seeds} seed(s)": preset,
                "bare, 4 chained rules": baseline,
            }
            for name, (wall, cpu, jobs) in rows.items():
                print(
                    f"{name:<26}{jobs:>7}{wall:>8.1f}{1000 * wall / jobs:>8.2f}"
                    f"{cpu:>8.1f}{1000 * cpu / jobs:>8.2f}"
                )
            wall_ratio = (preset[0] / preset[2]) / (baseline[0] / baseline[2])
            cpu_ratio = (preset[1] / preset[2]) / (baseline[1] / baseline[2])
            print(
                f"{'ratio (per job)':<26}{'':>7}{'':>8}{wall_ratio:>8.2f}{'':>8}{cpu_ratio:>8.2f}"
            )


if __name__ == "__main__":
    main()
