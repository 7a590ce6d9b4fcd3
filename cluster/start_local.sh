#!/usr/bin/env bash
# Start a local Ray head bound to 127.0.0.1 (no-op if one is already up). Needs the venv active.
set -euo pipefail
PORT="${DRL_RAY_PORT:-6379}"
DASH="${DRL_RAY_DASHBOARD_PORT:-8265}"
if ray status --address "127.0.0.1:$PORT" >/dev/null 2>&1; then
  echo "[cluster] Ray head already running at 127.0.0.1:$PORT"
  exit 0
fi
args=(--head --node-ip-address 127.0.0.1 --port "$PORT"
      --dashboard-host 127.0.0.1 --dashboard-port "$DASH" --include-dashboard true
      --disable-usage-stats)
[ -n "${DRL_RAY_NUM_CPUS:-}" ] && args+=(--num-cpus "$DRL_RAY_NUM_CPUS")
ray start "${args[@]}"
echo "[cluster] dashboard: http://127.0.0.1:$DASH"
