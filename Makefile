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

.PHONY: venv book test chromium bench clean

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

# Debian's Chromium for the browser tests (never Playwright's own download).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

book: $(STAMP)
	$(PY) -m jupyter_book build . -W -n --keep-going

test: $(STAMP) chromium book
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/conv2d_transpose_speed.py

clean:
	rm -rf _build
