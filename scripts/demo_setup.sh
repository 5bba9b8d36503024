#!/usr/bin/env bash
# The demo's set-up, starting nothing: the run folder and its secret key, the settings file, migrations, the
# model zoo and the admin login. `make demo` runs it first (scripts/demo.sh sources it and goes on with the
# variables it exports); the documented-commands tests run it alone in a copy of the repository.
#
# It writes the demo's settings to $EDGEORCH_RUN_DIR/run/demo.env (the run dir defaults to var/), which the
# settings read where the environment names no secret key (edgeorch/env.py, load_demo_env): so every
# `.venv/bin/python manage.py ...` typed in a new shell afterwards uses the demo's secret key, database and
# Redis. Variables set explicitly win over the file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
export EDGEORCH_RUN_DIR="${EDGEORCH_RUN_DIR:-$ROOT/var}"
RUN="$EDGEORCH_RUN_DIR/run"
V="$ROOT/.venv/bin"
[ -x "$V/python" ] || { echo "No virtual environment in $ROOT/.venv: run make demo (or make venv)."; exit 1; }
if [ -f "$RUN/web.pid" ] && kill -0 "$(cat "$RUN/web.pid")" 2>/dev/null; then
  echo "The demo is already running (make stop first)."; exit 1
fi
# What the demo writes is its user's alone (the secret key, the settings file, the SQLite database, the admin's
# password, logs, agents' credentials, models): files 0600 and folders 0700, from here on (the umask holds for
# everything demo.sh starts) and for what an earlier demo left.
umask 077
mkdir -p "$RUN/agents" "$RUN/logs"
chmod -R go-rwx "$RUN"
for f in "$EDGEORCH_RUN_DIR"/edgeorch.sqlite3* "$EDGEORCH_RUN_DIR/media"; do
  if [ -e "$f" ]; then chmod -R go-rwx "$f"; fi
done
export PORT="${PORT:-8000}"
export DEBUG="${DEBUG:-true}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
[ -f "$RUN/secret_key" ] || (umask 077; python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > "$RUN/secret_key")
unset SECRET_KEY
export SECRET_KEY_FILE="$RUN/secret_key"

# The settings a new shell needs, written anew each time (so they are the running demo's): the secret key
# file, DEBUG, Redis, the database (only if DATABASE_URL is set: else SQLite under the run dir) and the URL
# agents reach the server at (what run_scenario gives the agents it enrolls, as demo.sh does). python-dotenv
# quotes each value as its reader expects.
"$V/python" - "$RUN/demo.env" SECRET_KEY_FILE="$SECRET_KEY_FILE" DEBUG="$DEBUG" REDIS_URL="$REDIS_URL" \
  DATABASE_URL="${DATABASE_URL:-}" EDGEORCH_PUBLIC_URL="${EDGEORCH_PUBLIC_URL:-http://127.0.0.1:$PORT}" <<'PY'
import sys
from pathlib import Path

from dotenv import set_key

path = Path(sys.argv[1])
tmp = path.with_name(path.name + ".tmp")
tmp.write_text("# Written by scripts/demo_setup.sh (make demo); read by load_demo_env in edgeorch/env.py.\n")
tmp.chmod(0o600)
for name, value in (arg.split("=", 1) for arg in sys.argv[2:]):
    if value:
        set_key(tmp, name, value)
tmp.replace(path)
PY

echo "== migrating (${DATABASE_URL:-SQLite at $EDGEORCH_RUN_DIR/edgeorch.sqlite3})"
"$V/python" manage.py migrate --noinput -v 0
echo "== building the model zoo (cached after the first run)"
"$V/python" manage.py build_zoo
"$V/python" manage.py demo_setup --password-file "$RUN/admin-password" >/dev/null
ADMIN_USER=admin
ADMIN_PASSWORD=$(cat "$RUN/admin-password")
echo "== set up: log in as $ADMIN_USER / $ADMIN_PASSWORD; settings for new shells in $RUN/demo.env"
