#!/usr/bin/env bash
# Start a local Ray head bound to 127.0.0.1 (no-op if ours is already up). Uses .venv when no venv is active.
# Everything of this head lives under its own temp folder (DRL_RAY_TEMP_DIR, default
# /tmp/ray-drl-<port>), so that stop_local.sh stops this head and nothing else.
set -euo pipefail
# Use the project's venv when none is active (the README runs these scripts from a plain shell).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v ray >/dev/null 2>&1 || PATH="$root/.venv/bin:$PATH"
# shellcheck disable=SC1091
source "$root/cluster/local_head.sh"
# Token authentication on (Ray 2.5x+): the head and every client on this machine share
# ~/.ray/auth_token, readable by its owner only. Export RAY_AUTH_MODE=disabled to opt out.
export RAY_AUTH_MODE="${RAY_AUTH_MODE:-token}"
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# `ray status` retries a closed port for about a minute: ask it only when something listens.
if port_busy "$PORT" && ray status --address "127.0.0.1:$PORT" >/dev/null 2>&1; then
  echo "[cluster] Ray head already running at 127.0.0.1:$PORT"
  exit 0
fi
for p in "$PORT" "$DASH"; do
  if port_busy "$p"; then
    echo "[cluster] port 127.0.0.1:$p is taken by another program (another Ray?);" \
         "stop it or set DRL_RAY_PORT / DRL_RAY_DASHBOARD_PORT" >&2
    exit 1
  fi
done
if [ "$RAY_AUTH_MODE" = token ] && [ -z "${RAY_AUTH_TOKEN:-}" ]; then
  token="${RAY_AUTH_TOKEN_PATH:-$HOME/.ray/auth_token}"
  [ -s "$token" ] || (umask 077 && ray get-auth-token --generate >/dev/null)
  chmod 600 "$token"  # Ray writes it with the default umask (world-readable)
fi
args=(--head --node-ip-address 127.0.0.1 --port "$PORT" --temp-dir "$TEMP_DIR"
      --dashboard-host 127.0.0.1 --dashboard-port "$DASH" --include-dashboard true
      --ray-client-server-port "$CLIENT_PORT" --node-manager-port "$NODE_MANAGER_PORT"
      --object-manager-port "$OBJECT_MANAGER_PORT" --disable-usage-stats)
[ -n "${DRL_RAY_NUM_CPUS:-}" ] && args+=(--num-cpus "$DRL_RAY_NUM_CPUS")
ray start "${args[@]}"
echo "[cluster] dashboard: http://127.0.0.1:$DASH"
