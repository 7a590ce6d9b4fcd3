#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv and activate it.
# Source it:  source cluster/env.sh   (any failure exits the calling script)
# CPU installs pin torch with constraints-cpu.txt; set DRL_TORCH_CONSTRAINTS= (empty) on a GPU
# machine to let pip pick a CUDA build from the range in pyproject.toml.
_drl_fail() { echo "[env] $*" >&2; exit 1; }
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DRL_VENV:-$REPO/.venv}"
PY="${PYTHON:-python3}"
CONSTRAINTS="${DRL_TORCH_CONSTRAINTS-$REPO/constraints-cpu.txt}"

if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PY" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "[env] installing python3-venv with apt-get" >&2
      { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null; } || _drl_fail "apt-get install python3-venv failed"
      "$PY" -m venv "$VENV" || _drl_fail "'$PY -m venv $VENV' failed"
    else
      _drl_fail "'$PY -m venv' failed: install python3-venv (sudo apt-get install python3-venv)"
    fi
  fi
fi

# Reinstall only when the dependency files change.
stamp="$VENV/.drl-install-stamp"
want="$(cat "$REPO/pyproject.toml" "${CONSTRAINTS:-/dev/null}" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[env] installing the project and its dependencies into $VENV (a few minutes the first time)" >&2
  "$VENV/bin/python" -m pip install -q --upgrade pip || _drl_fail "pip upgrade failed"
  args=(-e "$REPO[test]")
  [ -n "$CONSTRAINTS" ] && args+=(-c "$CONSTRAINTS")
  "$VENV/bin/python" -m pip install -q "${args[@]}" || _drl_fail "pip install failed"
  echo "$want" > "$stamp"
fi
# shellcheck disable=SC1091
source "$VENV/bin/activate"
