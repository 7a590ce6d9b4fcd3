#!/usr/bin/env bash
# The README's second command: set up the environment and run the whole test suite (slow tests too).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# shellcheck disable=SC1091
source cluster/env.sh
exec python -m pytest "$@"
