#!/usr/bin/env bash
# Start the control plane (Daphne: Django + Channels). The one command line for the demo, tests and compose.
# Activations relayed through the control plane reach several MB, so Daphne's 1 MiB default is raised;
# agents hold their sockets for days, so Daphne's 24 h websocket timeout is off. EDGEORCH_PROXY_HEADERS=true
# (behind the reverse proxy: deploy/Caddyfile) takes the client's address from X-Forwarded-For.
set -euo pipefail
cd "$(dirname "$0")/.."
DAPHNE="${DAPHNE:-$(dirname "$(command -v python)")/daphne}"
[ -x "$DAPHNE" ] || DAPHNE=.venv/bin/daphne
exec "$DAPHNE" -b "${HOST:-127.0.0.1}" -p "${PORT:-8000}" \
  --websocket-max-message-size $((32 * 1024 * 1024)) --websocket-max-frame-size $((32 * 1024 * 1024)) \
  --websocket_timeout -1 --ping-interval 20 --ping-timeout 30 \
  --application-close-timeout 5 \
  $(case "${EDGEORCH_PROXY_HEADERS:-false}" in true|1|yes|on) echo --proxy-headers;; esac) \
  edgeorch.asgi:application
