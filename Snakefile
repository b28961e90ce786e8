"""tradeoffs: dataset download -> train -> evaluate -> benchmark -> metrics -> tables, figures."""

import os
import shlex
import sys

SRC = os.path.join(workflow.basedir, "src")
sys.path.insert(0, SRC)
from tradeoffs.config import ConfigError, check_config, check_config_files
from tradeoffs.fingerprint import HOST_ENV, host_name

# A preset given with --configfile replaces the default config instead of being merged into it,
# so the default's scaled-down studies never leak into a preset's grid.
if not workflow.config_settings.configfiles:

    configfile: "config.yaml"


try:
    check_config_files(workflow.configfiles)
    checked = check_config(
        config,
        basedir=workflow.basedir,
        config_dir=os.path.dirname(os.path.abspath(workflow.configfiles[-1])),
    )
except ConfigError as error:
    sys.exit(f"Config error:\n{error}")
config.clear()
config.update(checked)
HOST = host_name(config["host"])
# Every job imports the library from this checkout, in any env and on any node; Keras jobs get
# the legacy tf-keras that larq needs; every record names this machine (config `host:`).
shell.prefix(
    f"set -euo pipefail; export PYTHONPATH={shlex.quote(SRC)} TF_USE_LEGACY_KERAS=1 "
    f"{HOST_ENV}={shlex.quote(HOST)}; "
)


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/run_step.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/pretrained.smk"
include: "rules/evaluate.smk"
include: "rules/benchmark.smk"
include: "rules/metrics.smk"
include: "rules/aggregate.smk"
include: "rules/runtimes.smk"
include: "rules/serving.smk"
include: "rules/report.smk"
include: "rules/skip.smk"
include: "rules/cluster.smk"
include: "rules/bundle.smk"


rule all:
    default_target: True
    input:
        all_targets(),


state_signatures(workflow.rules)
