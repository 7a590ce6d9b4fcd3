#!/usr/bin/env bash
# Stop the local Ray head that start_local.sh started, and nothing else: the processes of its
# session (found by its temp folder) and their children. Other Ray clusters on this machine,
# yours or other people's, keep running (a bare `ray stop` would kill them all).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
source "$root/cluster/local_head.sh"
session="$(readlink -f "$TEMP_DIR/session_latest" 2>/dev/null || true)"
if [ -z "$session" ] || [ ! -d "$session" ]; then
  echo "[cluster] no Ray head of start_local.sh under $TEMP_DIR (port $PORT)"
  exit 0
fi
with_children() { local p; for p in "$@"; do echo "$p"; with_children $(pgrep -P "$p" || true); done; }
# The client server's command line names the head's address, not its session folder.
mapfile -t pids < <(with_children $(pgrep -f -- "$session" || true) \
                    $(pgrep -f -- "ray.util.client.server --address=127.0.0.1:$PORT " || true) | sort -u)
if [ ${#pids[@]} -eq 0 ]; then
  echo "[cluster] the Ray head of $session is not running"
  exit 0
fi
kill -TERM "${pids[@]}" 2>/dev/null || true
for _ in $(seq 1 30); do
  alive=()
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
  [ ${#alive[@]} -eq 0 ] && break
  sleep 0.5
done
[ ${#alive[@]} -gt 0 ] && kill -KILL "${alive[@]}" 2>/dev/null || true
# Ray resolves address "auto" (a job's driver does) through this file: leave no stale address.
rm -f "$TEMP_DIR/ray_current_cluster"
echo "[cluster] stopped the Ray head at 127.0.0.1:$PORT (${#pids[@]} processes of $session)"
