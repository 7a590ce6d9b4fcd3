#!/usr/bin/env bash
# Stop the local Ray head started by start_local.sh.
set -euo pipefail
ray stop
