#!/usr/bin/env bash
# Quick start 2: set up and build, then run the whole test suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j "$(nproc 2>/dev/null || echo 2)" --timeout 900
# AddressSanitizer + UndefinedBehaviorSanitizer build of the core, the CLI (no LibTorch) and their tests
# (build-asan/; docs/reliability.md). Skip with RBSM_SKIP_SANITIZE=1.
if [ "${RBSM_SKIP_SANITIZE:-0}" != "1" ]; then
  bash scripts/sanitize.sh
fi
