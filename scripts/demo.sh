#!/usr/bin/env bash
# `make demo`: migrate, build the model zoo, create an admin, start Daphne, a Celery worker and beat, and
# enroll and start three local agents, each emulating a device profile (a Raspberry Pi 4 camera node, an
# edge server and a Jetson Orin Nano). Everything runs in the background; `make stop` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export EDGEORCH_RUN_DIR="${EDGEORCH_RUN_DIR:-$ROOT/var}"
RUN="$EDGEORCH_RUN_DIR/run"
mkdir -p "$RUN/agents" "$RUN/logs"
export PORT="${PORT:-8000}"
export DEBUG="${DEBUG:-true}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
[ -f "$RUN/secret_key" ] || python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > "$RUN/secret_key"
export SECRET_KEY_FILE="$RUN/secret_key"
V="$ROOT/.venv/bin"
PATH="$V:$PATH"

if [ -f "$RUN/web.pid" ] && kill -0 "$(cat "$RUN/web.pid")" 2>/dev/null; then
  echo "The demo is already running (make stop first)."; exit 1
fi

# Redis: use the one at REDIS_URL, or start a private one under the run folder.
redis_port=$(python3 -c 'import sys,urllib.parse as u; print(u.urlparse(sys.argv[1]).port or 6379)' "$REDIS_URL")
if ! "$V/python" -c 'import redis,sys; redis.Redis.from_url(sys.argv[1], socket_timeout=1).ping()' "$REDIS_URL" 2>/dev/null; then
  if command -v redis-server >/dev/null; then
    echo "No Redis answers at $REDIS_URL: starting a private one on port $redis_port"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
      --dir "$RUN" --pidfile "$RUN/redis.pid" --logfile "$RUN/logs/redis.log"
    sleep 0.5
  else
    echo "No Redis answers at $REDIS_URL and redis-server is not installed."
    echo "Install it (apt-get install redis-server), or set REDIS_URL to a running Redis."; exit 1
  fi
fi

echo "== migrating (${DATABASE_URL:-SQLite at $EDGEORCH_RUN_DIR/edgeorch.sqlite3})"
"$V/python" manage.py migrate --noinput -v 0
if "$V/python" manage.py help build_zoo >/dev/null 2>&1; then
  echo "== building the model zoo (cached after the first run)"
  "$V/python" manage.py build_zoo
fi
eval "$("$V/python" manage.py demo_setup --password-file "$RUN/admin-password" | grep -E '^[A-Z_]+=')"

start() {  # name, command...
  local name=$1; shift
  nohup "$@" > "$RUN/logs/$name.log" 2>&1 &
  echo $! > "$RUN/$name.pid"
}
echo "== starting Daphne on port $PORT, a Celery worker and beat"
start web ./scripts/web.sh
start worker "$V/celery" -A edgeorch worker -l info --concurrency 2
start beat "$V/celery" -A edgeorch beat -l info -s "$RUN/celerybeat-schedule"
for _ in $(seq 60); do
  curl -fs "http://127.0.0.1:$PORT/accounts/login/" >/dev/null 2>&1 && break; sleep 0.5
done

SERVER="http://127.0.0.1:$PORT"
echo "== enrolling and starting the default scenario's agents (scenarios/default.yaml)"
# camera-pi (rpi4), edge-1 (edge-server), edge-2 (jetson-orin-nano): configs in $RUN/agents, pids in $RUN.
"$V/python" manage.py run_scenario scenarios/default.yaml --fleet-only --server "$SERVER" --run-dir "$RUN"

cat <<EOF_MSG

edgeorch is running.
  Dashboard:  $SERVER/   (log in as $ADMIN_USER / $ADMIN_PASSWORD)
  API docs:   $SERVER/api/docs/
  Logs:       $RUN/logs/
Stop everything with: make stop
EOF_MSG
