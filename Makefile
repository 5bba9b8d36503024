# The README's two commands: `make demo` and `make test`. .ci/run calls `make test`.
# After `make demo`, `make scenario` and `make token` run manage.py with the demo's settings (var/run/demo.env).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-test
DEMO_STAMP := $(VENV)/.installed-demo
export PORT ?= 8000

.PHONY: demo stop test test-fast test-demo lint format bench venv scenario token requirements client

# Three pinned sets (requirements/*.in, compiled by `make requirements`): requirements.txt is the runtime
# (the Docker image installs only it), requirements/zoo.txt builds the model zoo (torch, scikit-learn),
# requirements/dev.txt adds the test, lint and type-check tools. `make demo` installs runtime + zoo,
# `make test` runtime + dev (which includes zoo).
define install
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r $(1)
	$(PY) -m pip install --quiet -e ./wire
	$(PY) -m pip install --quiet -e ./agents
	$(if $(3),$(PY) -m pip install --quiet -e ./clients/python)
	touch $(2)
endef

$(DEMO_STAMP): requirements.txt requirements/zoo.txt wire/pyproject.toml agents/pyproject.toml
	$(call install,requirements/zoo.txt,$(DEMO_STAMP))

$(STAMP): requirements.txt requirements/dev.txt requirements/zoo.txt wire/pyproject.toml agents/pyproject.toml \
		clients/python/setup.py
	$(call install,requirements/dev.txt,$(STAMP),client)
	touch $(DEMO_STAMP)

venv: $(STAMP)

demo: $(DEMO_STAMP)
	./scripts/demo.sh

stop:
	./scripts/stop.sh

# make scenario SCENARIO=scenarios/NAME.yaml [REPORT=out.json]: run a scenario against the running demo.
scenario: $(DEMO_STAMP)
	@[ -n "$(SCENARIO)" ] || { echo "usage: make scenario SCENARIO=scenarios/NAME.yaml [REPORT=out.json]"; exit 2; }
	$(PY) manage.py run_scenario $(SCENARIO)$(if $(REPORT), --report $(REPORT))

# make token USER=NAME: a new API key for that user, shown once (only its digest is stored). USER must be given
# here: the one in the environment is your login name.
token: $(DEMO_STAMP)
	@[ "$(origin USER)" = "command line" ] || { echo "usage: make token USER=NAME (e.g. USER=admin)"; exit 2; }
	$(PY) manage.py api_key $(USER)

test: $(STAMP)
	./scripts/test.sh

# The inner loop: lint, then every test that starts no process and no browser, on PostgreSQL (under 2 min).
test-fast: $(STAMP)
	EDGEORCH_TEST_TIER=postgres ./scripts/test.sh -m "not e2e and not browser"

# The demo tier alone: the tests marked demo, on SQLite with the settings `make demo` uses.
test-demo: $(STAMP)
	./scripts/test_demo.sh

# Recompile the pinned sets from requirements/*.in, and the agent image's set (agents/requirements.in, under the
# runtime set's pins), keeping current pins where they still fit.
requirements: $(STAMP)
	$(VENV)/bin/pip-compile -q --allow-unsafe --no-emit-find-links --no-emit-index-url --strip-extras -o requirements.txt requirements/runtime.in
	$(VENV)/bin/pip-compile -q --allow-unsafe --no-emit-find-links --no-emit-index-url --strip-extras -o requirements/zoo.txt requirements/zoo.in
	$(VENV)/bin/pip-compile -q --allow-unsafe --no-emit-find-links --no-emit-index-url --strip-extras -o requirements/dev.txt requirements/dev.in
	sed -i 's/^torch==\([0-9.]*\)+cpu$$/torch==\1/' requirements/zoo.txt requirements/dev.txt  # the pin, not the local build's label
	cd agents && ../$(VENV)/bin/pip-compile -q --allow-unsafe --no-emit-find-links --no-emit-index-url --strip-extras -o requirements.txt requirements.in

# The API schema (docs/openapi.yaml) from the code, then the Python client (clients/python) generated from it by
# the generator pinned in requirements/dev.in. Commit both: the tests fail while either is stale.
client: $(STAMP)
	EDGEORCH_ALLOW_INSECURE_KEY=true $(PY) manage.py spectacular --fail-on-warn --file docs/openapi.yaml
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/openapi-python-client generate --path docs/openapi.yaml \
		--output-path clients/python --config clients/python-client.yaml --meta setup --overwrite --fail-on-warning

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	EDGEORCH_ALLOW_INSECURE_KEY=true $(VENV)/bin/mypy edgeorch agents/edgeorch_agent wire/edgeorch_wire  # the stubs load the settings
	PYTHONPATH=. $(VENV)/bin/lint-imports --no-cache

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	for b in bench/bench_*.py; do $(PY) $$b || exit 1; done
