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
# In Ray's own order (`ray stop`): the raylet first (its workers and agents share its fate), then
# the rest, the GCS last. Sent all at once, the GCS and the autoscaler's monitor outlived SIGTERM
# by over 15 s (every stop took 15 s). Each group gets 10 s to exit before SIGKILL. One `ps` a
# poll for the whole group; `kill -0`, used before, also counted zombies as alive.
csv() { local IFS=,; echo "$*"; }
# Those of the given processes still running; a zombie (exited, not yet reaped) counts as gone.
alive() { [ $# -eq 0 ] || ps -o pid=,stat= -p "$(csv "$@")" 2>/dev/null | awk '$2 !~ /^Z/ {print $1}'; }
stop_group() {
  local left
  mapfile -t left < <(alive "$@")
  [ ${#left[@]} -eq 0 ] && return 0
  kill -TERM "${left[@]}" 2>/dev/null || true
  for _ in $(seq 1 100); do
    sleep 0.1
    mapfile -t left < <(alive "${left[@]}")
    [ ${#left[@]} -eq 0 ] && return 0
  done
  echo "[cluster] ${#left[@]} process(es) outlived SIGTERM by 10 s; killing them" >&2
  killed=$((killed + ${#left[@]}))
  kill -KILL "${left[@]}" 2>/dev/null || true
}
raylet=(); gcs=(); rest=(); killed=0
while read -r p args; do
  case "$args" in
    */raylet/raylet\ *) raylet+=("$p") ;;
    */gcs/gcs_server\ *) gcs+=("$p") ;;
    *) rest+=("$p") ;;
  esac
done < <(ps -ww -o pid=,args= -p "$(csv "${pids[@]}")" 2>/dev/null || true)
stop_group "${raylet[@]}"
stop_group "${rest[@]}"
stop_group "${gcs[@]}"
# Ray resolves address "auto" (a job's driver does) through this file: leave no stale address.
rm -f "$TEMP_DIR/ray_current_cluster"
echo "[cluster] stopped the Ray head at 127.0.0.1:$PORT (${#pids[@]} processes of $session, $killed of them killed)"
