#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer build of the core library, the CLI (without the LibTorch
# commands) and the core tests in build-asan/, then runs the ctest labels core and reliability there.
# Any sanitizer report fails the run (halt_on_error, and -fno-sanitize-recover for UBSan).
# Usage: bash scripts/sanitize.sh [BUILD_DIR]   (default build-asan; about N min on 2 cores, see docs/reliability.md)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-asan}
jobs=${RBSM_JOBS:-$(nproc 2>/dev/null || echo 2)}
flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g1"
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRBSM_WITH_TORCH=OFF -DRBSM_BUILD_BENCH=OFF -DRBSM_BUILD_PYTHON=OFF \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-DNDEBUG" "-DCMAKE_CXX_FLAGS=$flags" \
      "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" >/dev/null
cmake --build "$dir" -j "$jobs"
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0:exitcode=86
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87
# core tests, fuzz corpus replays and the reliability tests; then the CLI contract tests of the commands
# this build has (tests/cli/data.cmake and fit.cmake call LibTorch commands unconditionally)
# The few core tests that take over 10 s under ASan (heavy quadratures of code the others cover) run in the
# main build only.
slow='^(Kde[.]BandwidthOnValidationBeatsUniformOnConcentratedData|DsmTorus[.]WholeNormalSpaceErrorIsOfOrderExpMinusReachSquared|'
slow+='Normalisation[.]MatrixFisherByAxisAngleQuadrature|Langevin[.]MalaIsExactOnTheTorusOfRevolution)$'
ctest --test-dir "$dir" -L 'core|reliability' -E "$slow" --output-on-failure -j "$jobs" --timeout 900
# (the JSON checks of equilibrium/variance/expansion run long Langevin chains: main build only)
ctest --test-dir "$dir" -R '^cli[.]error[.](geometry|score|target|variance|expansion|equilibrium|rel)_|^cli[.]json[.](geometry|score|target|rel)_' \
      --output-on-failure -j "$jobs" --timeout 900
