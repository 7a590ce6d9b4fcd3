#!/usr/bin/env bash
# Start a local Ray head bound to 127.0.0.1 (no-op if ours is already up). Uses .venv when no venv is active.
set -euo pipefail
# Use the project's venv when none is active (the README runs these scripts from a plain shell).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v ray >/dev/null 2>&1 || PATH="$root/.venv/bin:$PATH"
# Token authentication on (Ray 2.5x+): the head and every client on this machine share
# ~/.ray/auth_token. Export RAY_AUTH_MODE=disabled to opt out.
export RAY_AUTH_MODE="${RAY_AUTH_MODE:-token}"
PORT="${DRL_RAY_PORT:-6379}"
DASH="${DRL_RAY_DASHBOARD_PORT:-8265}"
if ray status --address "127.0.0.1:$PORT" >/dev/null 2>&1; then
  echo "[cluster] Ray head already running at 127.0.0.1:$PORT"
  exit 0
fi
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$PORT" "$DASH"; do
  if port_busy "$p"; then
    echo "[cluster] port 127.0.0.1:$p is taken by another program (another Ray?);" \
         "stop it or set DRL_RAY_PORT / DRL_RAY_DASHBOARD_PORT" >&2
    exit 1
  fi
done
if [ "$RAY_AUTH_MODE" = token ] && [ -z "${RAY_AUTH_TOKEN:-}" ] && [ ! -s "${RAY_AUTH_TOKEN_PATH:-$HOME/.ray/auth_token}" ]; then
  ray get-auth-token --generate >/dev/null
fi
args=(--head --node-ip-address 127.0.0.1 --port "$PORT"
      --dashboard-host 127.0.0.1 --dashboard-port "$DASH" --include-dashboard true
      --ray-client-server-port "${DRL_RAY_CLIENT_PORT:-10001}" --disable-usage-stats)
[ -n "${DRL_RAY_NUM_CPUS:-}" ] && args+=(--num-cpus "$DRL_RAY_NUM_CPUS")
ray start "${args[@]}"
echo "[cluster] dashboard: http://127.0.0.1:$DASH"
