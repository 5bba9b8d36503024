#!/usr/bin/env bash
# `make stop`: stop everything `make demo` started (agents first, then the server side).
set -uo pipefail
cd "$(dirname "$0")/.."
RUN="${EDGEORCH_RUN_DIR:-$PWD/var}/run"
[ -d "$RUN" ] || { echo "Nothing to stop."; exit 0; }
for pidfile in "$RUN"/profile.pid "$RUN"/agent-*.pid "$RUN"/beat.pid "$RUN"/worker.pid "$RUN"/web.pid "$RUN"/redis.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    echo "stopped $(basename "$pidfile" .pid)"
  fi
  rm -f "$pidfile"
done
