# The README's two commands: `make demo` and `make test`. .ci/run calls `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PORT ?= 8000

.PHONY: demo stop test lint format bench venv

$(STAMP): requirements.txt agents/pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet -e ./agents
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	./scripts/demo.sh

stop:
	./scripts/stop.sh

test: $(STAMP)
	./scripts/test.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy edgeorch/planning agents/edgeorch_agent

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	for b in bench/bench_*.py; do $(PY) $$b || exit 1; done
