#!/usr/bin/env bash
# The demo tier: the tests marked `demo` (pages, dashboard snapshots, the job and session lifecycle with a
# real agent killed mid-run, a browser walk through every page) against the configuration `make demo` runs:
# SQLite under the run folder (no DATABASE_URL), DEBUG, a secret key from a file. `make test` runs it beside the
# PostgreSQL suite; `make test-demo` runs it alone. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
unset DATABASE_URL TEST_DATABASE_URL
export EDGEORCH_RUN_DIR="$PWD/var/test-demo"
mkdir -p "$EDGEORCH_RUN_DIR"
[ -f "$EDGEORCH_RUN_DIR/secret_key" ] || python3 -c 'import secrets; print(secrets.token_urlsafe(48))' \
  > "$EDGEORCH_RUN_DIR/secret_key"
unset SECRET_KEY
export SECRET_KEY_FILE="$EDGEORCH_RUN_DIR/secret_key"
export DEBUG=true
export ALLOWED_HOSTS="127.0.0.1,localhost,testserver"
# Its own Redis database, so that neither a running demo (0) nor the PostgreSQL tier (1) sees its messages.
export REDIS_URL="${TEST_DEMO_REDIS_URL:-redis://127.0.0.1:6379/2}"
set +e
.venv/bin/pytest -m demo -p no:cacheprovider --durations=15 "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then echo "pytest collected no demo-tier tests: that is a failure"; fi
exit "$rc"
