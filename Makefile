# Two commands set everything up on a fresh Debian machine with Python 3.11:
#   make book   -- build the site into _build/html
#   make test   -- run every test (it builds the site first, for the browser tests)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# TensorFlow logs to stderr on import unless both are set; stderr fails builds and grading.
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export PYTHONHASHSEED := 0
# nbgrader runs helper programs (alembic) by name: the venv's bin comes first.
export PATH := $(abspath $(VENV))/bin:$(PATH)


.PHONY: venv sandbox assets book test chromium bench bench-book clean \
	assignments collect autograde feedback grades bench-autograde

venv: $(STAMP)

# The virtual environment, the course itself (editable, so every notebook imports tconv_lib)
# and the Jupyter kernel "tconv" that the book, the exercises and nbgrader run on.
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name tconv --display-name "Python 3 (TensorFlow)" \
		--env TF_CPP_MIN_LOG_LEVEL 3 --env TF_ENABLE_ONEDNN_OPTS 0 >/dev/null
	touch $@

# The grading sandbox: Debian's bubblewrap, and a separate environment with only what graded code
# may import (sandbox-requirements.txt: NumPy, matplotlib, IPython), at the course's versions.
SANDBOX_STAMP := $(VENV)/sandbox/.installed
sandbox: $(SANDBOX_STAMP)
$(SANDBOX_STAMP): $(STAMP) sandbox-requirements.txt
	@command -v bwrap >/dev/null || { apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; }
	$(PYTHON) -m venv $(VENV)/sandbox
	$(PY) -m pip freeze --exclude-editable > $(VENV)/sandbox/constraints.txt
	$(VENV)/sandbox/bin/python -m pip install -q -r sandbox-requirements.txt -c $(VENV)/sandbox/constraints.txt
	touch $@

# Debian's Chromium for the browser tests (never Playwright's own download).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# The site serves its own MathJax, require.js and ipywidgets bundle: fetched from npm (versions
# pinned by web/package-lock.json, `npm ci`) into .web/_assets, copied to the site's root.
ASSETS := .web/_assets/widgets/embed-amd.js
assets: $(ASSETS)
$(ASSETS): web/package.json web/package-lock.json web/fetch_assets.py web/require-config.js
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq npm >/dev/null; }
	$(PYTHON) web/fetch_assets.py
	touch $@

book: $(STAMP) $(ASSETS)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

test: $(STAMP) $(SANDBOX_STAMP) chromium book
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/conv2d_transpose_speed.py

# Cold build of the whole book (cache cleared) and a rebuild with nothing changed.
bench-book: $(STAMP) $(ASSETS)
	$(PY) benchmarks/book_build.py

# ---- Instructors (README "Instructors"): nbgrader's own commands, run from this folder,
# configured by nbgrader_config.py (source solutions/, release exercises/).
NBGRADER := $(VENV)/bin/nbgrader
ASSIGNMENTS = $(notdir $(patsubst %/,%,$(dir $(wildcard solutions/*/*.ipynb))))

# exercises/ from solutions/ (solutions and hidden tests removed), for every assignment.
assignments: $(STAMP)
	@for a in $(sort $(ASSIGNMENTS)); do $(NBGRADER) generate_assignment $$a --force --log-level=WARN || exit 1; done

# File a folder or .zip of <student>_<notebook>.ipynb into submitted/: make collect SUBMISSIONS=path
collect: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make collect SUBMISSIONS=folder-or-zip"; exit 2; }
	$(PY) -m tconv_lib.grading.instructor collect "$(SUBMISSIONS)"

# The secret mixed into the hidden cases' seeds (README "Instructors"): made once, kept private.
GRADING_SECRET := .grading_secret
$(GRADING_SECRET):
	@umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_hex(16))" > $@

# Autograde every new or changed submission (or ASSIGNMENT=name) on a local Dask cluster, one
# worker per core (WORKERS=n), or on an existing one (SCHEDULER=tcp://host:8786), or SERIAL=1;
# FORCE=1 regrades everything. One line per submission, a progress bar, a summary.
autograde: $(STAMP) $(SANDBOX_STAMP) $(GRADING_SECRET)
	TCONV_GRADING_SECRET="$$(cat $(GRADING_SECRET))" $(PY) -m tconv_lib.grading.instructor autograde \
		$(ASSIGNMENT) $(if $(FORCE),--force) $(if $(SERIAL),--serial) $(if $(WORKERS),--workers $(WORKERS)) \
		$(if $(SCHEDULER),--scheduler $(SCHEDULER))

feedback: $(STAMP)
	@for a in $(if $(ASSIGNMENT),$(ASSIGNMENT),$(sort $(ASSIGNMENTS))); do \
		$(NBGRADER) generate_feedback $$a --force --log-level=WARN || exit 1; done

grades: $(STAMP)
	$(NBGRADER) export --to grades.csv --log-level=WARN
	@echo "grades written to grades.csv"

bench-autograde: $(STAMP) $(SANDBOX_STAMP)
	$(PY) benchmarks/autograde_speed.py

clean:
	rm -rf _build
