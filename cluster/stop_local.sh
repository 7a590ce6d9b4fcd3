#!/usr/bin/env bash
# Stop the local Ray head started by start_local.sh.
set -euo pipefail
# Use the project's venv when none is active (the README runs these scripts from a plain shell).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v ray >/dev/null 2>&1 || PATH="$root/.venv/bin:$PATH"
ray stop
