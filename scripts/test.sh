#!/usr/bin/env bash
# The whole test suite: lint, Django checks, pytest against real PostgreSQL and Redis, and beside it the demo
# tier (scripts/test_demo.sh: the tests marked demo again, on SQLite with the settings `make demo` uses).
# EDGEORCH_TEST_TIER=postgres or demo runs one tier; arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/edgeorch}"
export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/1}"
export SECRET_KEY="${SECRET_KEY:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')}"  # one per run
export DEBUG=false ALLOWED_HOSTS="127.0.0.1,localhost,testserver"
export EDGEORCH_RUN_DIR="${EDGEORCH_RUN_DIR:-$PWD/var/test}"
V=.venv/bin

# makemigrations --check also checks the migration history of the main database: make sure it exists.
$V/python - <<'PY' || true
import os, psycopg, urllib.parse as u
url = u.urlparse(os.environ["DATABASE_URL"])
name = url.path.lstrip("/")
with psycopg.connect(u.urlunparse(url._replace(path="/postgres")), autocommit=True) as conn:
    if not conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
        conn.execute(f'create database "{name}"')
PY

echo "== ruff"
$V/ruff check .
echo "== mypy (the Django apps with django-stubs, the agent, the wire package)"
$V/mypy edgeorch agents/edgeorch_agent wire/edgeorch_wire
echo "== import rules (.importlinter)"
PYTHONPATH=. $V/lint-imports --no-cache
echo "== manage.py check / makemigrations --check"
$V/python manage.py check --fail-level WARNING
$V/python manage.py makemigrations --check --dry-run >/dev/null || {
  echo "Models and migrations disagree: run manage.py makemigrations"; exit 1; }
# pytest exits 5 when it collected nothing: that is a failure here, never a pass.
run_pytest() {
  set +e
  $V/pytest "$@"
  local rc=$?
  set -e
  if [ "$rc" -eq 5 ]; then echo "pytest collected no tests: that is a failure"; fi
  return "$rc"
}

# The model zoo, built once before the tiers start (both read var/zoo; cached when current).
DJANGO_SETTINGS_MODULE=edgeorch.settings $V/python -c \
  "import django; django.setup(); from edgeorch.catalog import zoo; zoo.build_zoo()" >/dev/null

# Both tiers run even when one fails, so that one run shows every failure. They share nothing (database,
# Redis database, run folder, ports picked free), so `make test` runs them side by side: the demo tier in
# the background, its output in var/test-demo.log, shown after the PostgreSQL tier's. Each tier is mostly one
# pytest process waiting on the servers, agents and browsers it starts (half the two cores idle): side by
# side, the whole run takes about the PostgreSQL tier's time instead of the sum (docs/benchmarks.md,
# "Test suite").
pg=0 demo=0
tier="${EDGEORCH_TEST_TIER:-all}"
demo_pid=
if [ "$tier" = all ]; then
  demo_log="$PWD/var/test-demo.log"
  mkdir -p var
  echo "== pytest (the demo configuration: SQLite, DEBUG, a secret key file; tests marked demo), in the background: $demo_log"
  set -m  # its own process group, so that an interrupted run stops it too
  ./scripts/test_demo.sh "$@" >"$demo_log" 2>&1 &
  demo_pid=$!
  set +m
  trap '[ -n "$demo_pid" ] && kill -- "-$demo_pid" 2>/dev/null; exit 130' INT TERM
fi
if [ "$tier" != demo ]; then
  echo "== pytest (PostgreSQL)"
  # The browser tests marked demo drive pages whose server side the page tests check on both databases; they
  # run once, in the demo tier on SQLite (the configuration a new user sees), not twice. A -m of the caller's
  # comes later and wins. --durations: the slowest tests, in every run's log, to see where CI's time goes.
  run_pytest -m "not (demo and browser)" --durations=25 "$@" || pg=$?
fi
if [ -n "$demo_pid" ]; then
  wait "$demo_pid" || demo=$?
  demo_pid=
  echo "== pytest (the demo configuration), run beside the PostgreSQL tier: $demo_log"
  cat "$demo_log"
elif [ "$tier" != postgres ]; then
  echo "== pytest (the demo configuration: SQLite, DEBUG, a secret key file; tests marked demo)"
  ./scripts/test_demo.sh "$@" || demo=$?
fi
[ "$pg" -eq 0 ] && [ "$demo" -eq 0 ] || { echo "pytest failed (PostgreSQL tier: $pg, demo tier: $demo)"; exit 1; }
