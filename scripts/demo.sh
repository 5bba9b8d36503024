#!/usr/bin/env bash
# `make demo`: set up (scripts/demo_setup.sh: migrate, build the model zoo, create an admin, write the settings
# new shells read), start Daphne, a Celery worker and beat, and enroll and start three local agents, each emulating a device profile (a Raspberry Pi 4 camera node, an
# edge server and a Jetson Orin Nano). Everything runs in the background; `make stop` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
# The set-up (run folder, secret key, the settings file new shells read, migrate, zoo, admin): it exports
# EDGEORCH_RUN_DIR, PORT, DEBUG, REDIS_URL and SECRET_KEY_FILE for what starts below, and sets RUN, V,
# ADMIN_USER and ADMIN_PASSWORD.
source scripts/demo_setup.sh
PATH="$V:$PATH"

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
echo "== profiling the fleet on the zoo's models in the background (log: $RUN/logs/profile.log)"
# So that the first plan is planned from measured times, not the profiles' estimates (manage.py profile_fleet).
start profile "$V/python" manage.py profile_fleet --server "$SERVER"

cat <<EOF_MSG

edgeorch is running.
  Dashboard:  $SERVER/   (log in as $ADMIN_USER / $ADMIN_PASSWORD)
  API docs:   $SERVER/api/docs/
  Logs:       $RUN/logs/
Stop everything with: make stop
Commands in any shell now use this demo's settings ($RUN/demo.env), e.g.
  make scenario SCENARIO=scenarios/bandwidth-collapse.yaml
  make token USER=$ADMIN_USER
EOF_MSG
