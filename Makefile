# The README's two commands: `make demo` and `make test`. .ci/run calls `make test`.
# After `make demo`, `make scenario` and `make token` run manage.py with the demo's settings (var/run/demo.env).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PORT ?= 8000

.PHONY: demo stop test lint format bench venv scenario token

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

# make scenario SCENARIO=scenarios/NAME.yaml [REPORT=out.json]: run a scenario against the running demo.
scenario: $(STAMP)
	@[ -n "$(SCENARIO)" ] || { echo "usage: make scenario SCENARIO=scenarios/NAME.yaml [REPORT=out.json]"; exit 2; }
	$(PY) manage.py run_scenario $(SCENARIO)$(if $(REPORT), --report $(REPORT))

# make token USER=NAME: that user's API key (created if it has none). USER must be given here: the one in the
# environment is your login name.
token: $(STAMP)
	@[ "$(origin USER)" = "command line" ] || { echo "usage: make token USER=NAME (e.g. USER=admin)"; exit 2; }
	$(PY) manage.py drf_create_token $(USER)

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
