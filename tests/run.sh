#!/usr/bin/env bash
# The README's second command: set up the environment and run the whole test suite (slow tests too).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# shellcheck disable=SC1091
source cluster/env.sh
# The tests start local Ray clusters of their own; a head left running on this machine (e.g. by
# DRL_KEEP_RAY=1 bash cluster/run_study.sh) would make them connect to it or fight over ports.
if (exec 3<>"/dev/tcp/127.0.0.1/${DRL_RAY_PORT:-6379}") 2>/dev/null; then
  echo "[tests] a Ray head is running at 127.0.0.1:${DRL_RAY_PORT:-6379}; stop it first: bash cluster/stop_local.sh" >&2
  exit 1
fi
# The MLflow compare-view test drives a real browser: Debian's chromium, installed here when it can
# be (root and apt-get); without it that one test is skipped, and says why.
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "[tests] installing chromium with apt-get (for the MLflow compare-view test)" >&2
  { apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }; } \
    || echo "[tests] chromium did not install; the compare-view test will be skipped" >&2
fi
exec python -m pytest "$@"
