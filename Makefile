# Set-up and entry points. Only Python 3.11 is needed on the machine: everything else is pinned
# in requirements.txt and installed into .venv on first use.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PYTHONPATH := $(CURDIR)/src
CORES ?= all
CONFIG ?= config.yaml

RUNNER := .venv-runner

.PHONY: venv runner test lint run report bench dashboard bundle import clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt
	$(VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# The runner env (envs/runner.yaml): Snakemake and its executor plugins, for cluster runs.
runner: $(RUNNER)/.installed

$(RUNNER)/.installed: envs/runner.yaml
	test -x $(RUNNER)/bin/python || $(PYTHON) -m venv $(RUNNER)
	sed -n '/^  - pip:/,$$ s/^      - //p' envs/runner.yaml > $(RUNNER)/requirements.txt
	$(RUNNER)/bin/python -m pip install --quiet -r $(RUNNER)/requirements.txt
	touch $@

lint: $(STAMP)
	ruff check .
	ruff format --check .
	snakefmt --check Snakefile rules/
	snakemake --lint --cores 1

test: lint
	pytest -ra

run: $(STAMP)
	snakemake --workflow-profile profiles/local --cores $(CORES) --configfile $(CONFIG)
	snakemake --workflow-profile profiles/local --cores $(CORES) --configfile $(CONFIG) --report results/report.html

report: $(STAMP)
	snakemake --workflow-profile profiles/local --cores $(CORES) --configfile $(CONFIG) --report results/report.html

bench: $(STAMP)
	python benchmarks/harness_overhead.py
	python benchmarks/numba_vs_torch.py
	python benchmarks/runtimes.py
	python benchmarks/quantized_step.py --quick
	python benchmarks/planning.py

# The dashboard on http://localhost:8501 (.streamlit/config.toml) over CONFIG's results_dir
# (RESULTS=dir for another).
dashboard: $(STAMP)
	streamlit run src/tradeoffs/dashboard/app.py -- --config $(CONFIG) $(if $(RESULTS),--results $(RESULTS))

# This machine's runs as results/bundles/{host}.tar.gz; `make import BUNDLE="a.tar.gz b.tar.gz"`
# adds other machines' bundles under results/hosts/{host}/ (verified first, all or nothing).
bundle: $(STAMP)
	snakemake bundle --workflow-profile profiles/local --cores $(CORES) --configfile $(CONFIG)

import: $(STAMP)
	python scripts/import_bundle.py --config $(CONFIG) $(BUNDLE)

clean:
	rm -rf results .snakemake
