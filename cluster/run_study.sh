#!/usr/bin/env bash
# The README's first command: set up the environment, start a local Ray head on 127.0.0.1 and
# submit the study as a Ray job. Extra arguments go to full_study.py (e.g. --smoke, --config F).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# shellcheck disable=SC1091
source cluster/env.sh
OUT="${DRL_OUTPUT_DIR:-$REPO/outputs}"
export RAY_AUTH_MODE="${RAY_AUTH_MODE:-token}"  # the job client reads ~/.ray/auth_token
RAY_ADDR="127.0.0.1:${DRL_RAY_PORT:-6379}"
# `ray status` retries a closed port for about a minute: ask it only when something listens.
head_up() { (exec 3<>"/dev/tcp/127.0.0.1/${DRL_RAY_PORT:-6379}") 2>/dev/null && ray status --address "$RAY_ADDR" >/dev/null 2>&1; }
if ! head_up && [ "${DRL_KEEP_RAY:-0}" != 1 ]; then
  # The head this script starts is stopped again at the end (DRL_KEEP_RAY=1 keeps it), so that
  # the next command (e.g. bash tests/run.sh, whose tests start clusters of their own) finds none.
  trap 'echo "[study] stopping the local Ray head (DRL_KEEP_RAY=1 keeps it)"; bash cluster/stop_local.sh >/dev/null 2>&1 || true' EXIT
fi
bash cluster/start_local.sh
ray job submit --address "http://127.0.0.1:${DRL_RAY_DASHBOARD_PORT:-8265}" \
  --working-dir . --runtime-env cluster/runtime_env.yaml \
  -- python pipelines/full_study.py --output-dir "$OUT" "$@"
echo "[study] results in $OUT"
echo "[study] view them: $VENV/bin/mlflow ui --host 127.0.0.1 --port 5000 --backend-store-uri sqlite:///$OUT/mlflow.db"
