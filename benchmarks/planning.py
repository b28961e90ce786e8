"""Planning cost of the pipeline's DAG against Snakemake's own floor.

Plans (`snakemake -n`, each in its own process, against an empty results folder) the paper
preset (`configs/paper.yaml`) at 1 seed and at 5 seeds per study, and a generated bare
Snakefile of four chained shell rules with the same number of jobs; prints both wall times,
the job counts, the milliseconds per job and the ratio of the two per-job costs. The two
plans of a size run one after the other, so a loaded machine slows both alike.

    python benchmarks/planning.py [--seeds 1 5] [--preset configs/paper.yaml]
"""

from __future__ import annotations

import argparse
import re
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


def plan(snakefile: Path, workdir: Path, *options: str) -> tuple[float, int]:
    """Seconds and jobs of one dry run (a fresh process, as a user's `snakemake -n`)."""
    command = [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "-s", str(snakefile)]
    command += ["--directory", str(workdir), *options]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=workdir)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    totals = re.findall(r"^total\s+(\d+)", done.stdout + done.stderr, flags=re.MULTILINE)
    if not totals:
        sys.exit(f"no job count in the output of {' '.join(command)}")
    return seconds, int(totals[-1])


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

    print(f"{'plan':<24}{'jobs':>7}{'seconds':>9}{'ms/job':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bare = tmp / "bare" / "Snakefile"
        bare.parent.mkdir()
        bare.write_text(BARE_RULES)
        for seeds in args.seeds:
            work = tmp / f"preset-{seeds}"
            work.mkdir()
            configfile = preset_with_seeds(args.preset, seeds, work)
            seconds, jobs = plan(ROOT / "Snakefile", work, "--configfile", str(configfile))
            samples = max(1, (jobs - 1) // 4)  # four jobs per sample, plus `all`
            bare_work = tmp / f"bare-{seeds}"
            bare_work.mkdir()
            bare_seconds, bare_jobs = plan(bare, bare_work, "--config", f"samples={samples}")
            per_job = 1000 * seconds / jobs
            bare_per_job = 1000 * bare_seconds / bare_jobs
            print(
                f"{f'{args.preset.stem}, {seeds} seed(s)':<24}{jobs:>7}{seconds:>9.1f}"
                f"{per_job:>8.2f}"
            )
            print(
                f"{'bare, 4 chained rules':<24}{bare_jobs:>7}{bare_seconds:>9.1f}"
                f"{bare_per_job:>8.2f}"
            )
            print(f"{'ratio (ms/job)':<24}{'':>7}{'':>9}{per_job / bare_per_job:>8.2f}")


if __name__ == "__main__":
    main()
