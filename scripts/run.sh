#!/usr/bin/env bash
# Quick start 1: set up and build, then run the main job (every experiment, quick profile).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
build/rbsm reproduce --profile quick --out runs/quick "$@"
echo "report: runs/quick/report.html" >&2
