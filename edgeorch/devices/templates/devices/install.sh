#!/bin/sh
# edgeorch agent installer: creates a virtual environment, installs the agent and the wire contract it
# depends on from this server, enrolls the device with a one-time token and, with --systemd, installs and
# starts a service.
#   curl -fsSL {{ server }}/agent/install.sh | sh -s -- --server {{ server }} --token TOKEN [--name NAME]
#        [--profile PROFILE] [--prefix DIR] [--systemd]
# EDGEORCH_PIP_ARGS adds arguments to pip (e.g. --index-url of a local mirror on an offline network).
set -eu

SERVER="{{ server }}"
TOKEN=""
NAME="$(hostname)"
PROFILE=""
PREFIX="${HOME:-/root}/.local/share/edgeorch-agent"
SYSTEMD=0

while [ $# -gt 0 ]; do
  case "$1" in
    --server) SERVER="$2"; shift 2 ;;
    --token) TOKEN="$2"; shift 2 ;;
    --name) NAME="$2"; shift 2 ;;
    --profile) PROFILE="$2"; shift 2 ;;
    --prefix) PREFIX="$2"; shift 2 ;;
    --systemd) SYSTEMD=1; shift ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

[ -n "$TOKEN" ] || { echo "install.sh: --token is required (create one on the Enrollment page)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "install.sh: python3 (3.10 or newer) is required" >&2; exit 2; }

echo "Installing the edgeorch agent into $PREFIX"
python3 -m venv "$PREFIX/venv"
# shellcheck disable=SC2086
"$PREFIX/venv/bin/pip" install --quiet ${EDGEORCH_PIP_ARGS:-} \
  "$SERVER/agent/edgeorch-wire.tar.gz" "$SERVER/agent/edgeorch-agent.tar.gz"

CONFIG="$PREFIX/agent.json"
set -- enroll --server "$SERVER" --token "$TOKEN" --name "$NAME" --config "$CONFIG"
[ -n "$PROFILE" ] && set -- "$@" --profile "$PROFILE"
"$PREFIX/venv/bin/edgeorch-agent" "$@"

if [ "$SYSTEMD" = 1 ]; then
  UNIT=/etc/systemd/system/edgeorch-agent.service
  cat > "$UNIT" <<UNIT_EOF
[Unit]
Description=edgeorch device agent
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=$PREFIX/venv/bin/edgeorch-agent run --config $CONFIG
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
UNIT_EOF
  systemctl daemon-reload
  systemctl enable --now edgeorch-agent
  echo "Installed and started the edgeorch-agent service ($UNIT)."
else
  echo "Enrolled. Start the agent with: $PREFIX/venv/bin/edgeorch-agent run --config $CONFIG"
fi
