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

# Every part runs even when another fails, so that one run shows every failure. The parts share nothing
# (database, Redis database, run folder, ports picked free), so they run side by side: each is mostly one
# pytest process waiting on the servers, agents and browsers it starts (alone, half the two cores sat
# idle). The PostgreSQL tier is two parts: the control plane's tests (tests/, edgeorch/) in the foreground,
# and those that use no database (agents/tests, wire/tests, tests/test_documented_commands.py; Redis database
# 3) in the background; the demo tier is a third part, in the background too. A background part's output
# goes to var/test-<part>.log and is shown after the foreground part's (docs/benchmarks.md, "Test suite").
# With any argument that is not an option (a test path, or an option's value given apart, as `make test-fast`'s -m
# expression is) the PostgreSQL tier is one process, as it always was.
tier="${EDGEORCH_TEST_TIER:-all}"
split=yes
for arg in "$@"; do case "$arg" in -*) ;; *) split=no ;; esac; done
declare -A pids logs
background() {  # background NAME COMMAND...: its own process group, so that an interrupted run stops it too
  local name=$1; shift
  logs[$name]="$PWD/var/test-$name.log"
  mkdir -p var
  echo "== pytest ($name), in the background: ${logs[$name]}"
  set -m
  "$@" >"${logs[$name]}" 2>&1 &
  pids[$name]=$!
  set +m
}
trap 'for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null; done; exit 130' INT TERM
# The browser tests marked demo drive pages whose server side the page tests check on both databases; they
# run once, in the demo tier on SQLite (the configuration a new user sees), not twice. A -m of the caller's
# comes later and wins. --durations: the slowest tests, in every run's log, to see where CI's time goes.
PG_ARGS=(-m "not (demo and browser)" --durations=25)
[ "$tier" = all ] && background demo ./scripts/test_demo.sh "$@"
NODB=(agents/tests wire/tests tests/test_documented_commands.py)  # the rest: tests/, edgeorch/
nodb_part() {  # its own Redis database (the benchmarks the documented commands run use it too)
  export REDIS_URL="${TEST_NODB_REDIS_URL:-redis://127.0.0.1:6379/3}" EDGEORCH_RUN_DIR="$PWD/var/test-nodb"
  export TEST_REDIS_URL="$REDIS_URL"
  local rc=0
  run_pytest "${PG_ARGS[@]}" -p no:cacheprovider "$@" "${NODB[@]}" || rc=$?
  if [ "$rc" -eq 5 ] && [ "$#" -gt 0 ]; then echo "(the arguments select none of these tests)"; rc=0; fi
  return "$rc"
}
[ "$tier" != demo ] && [ "$split" = yes ] && background nodb nodb_part "$@"
failed=()
if [ "$tier" != demo ]; then
  if [ "$split" = yes ]; then
    echo "== pytest (PostgreSQL: the rest of tests/, edgeorch/)"
    # (pytest's --ignore applies to what it finds under the paths it is given, not to the paths themselves)
    run_pytest "${PG_ARGS[@]}" --ignore=tests/test_documented_commands.py "$@" tests edgeorch ||
      failed+=("PostgreSQL: $?")
  else
    echo "== pytest (PostgreSQL)"
    run_pytest "${PG_ARGS[@]}" "$@" || failed+=("PostgreSQL: $?")
  fi
elif [ "$tier" = demo ]; then
  echo "== pytest (the demo configuration: SQLite, DEBUG, a secret key file; tests marked demo)"
  ./scripts/test_demo.sh "$@" || failed+=("demo: $?")
fi
for name in nodb demo; do
  [ -n "${pids[$name]:-}" ] || continue
  rc=0
  wait "${pids[$name]}" || rc=$?
  echo "== pytest ($name), run beside the PostgreSQL tier: ${logs[$name]}"
  cat "${logs[$name]}"
  [ "$rc" -eq 0 ] || failed+=("$name: $rc")
done
pids=()
[ "${#failed[@]}" -eq 0 ] || { echo "pytest failed (${failed[*]})"; exit 1; }
