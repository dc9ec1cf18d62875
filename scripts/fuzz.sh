#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan+UBSan, fuzz/) in build-fuzz/ and runs each one.
# Usage: bash scripts/fuzz.sh [RUNS] [TARGET...]   (RUNS default 1000000 executions per target;
#        each input has a 1 s timeout, leaks are detected; new inputs go to build-fuzz/corpus/<target>,
#        crashes to build-fuzz/artifacts/). Results: docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1000000}
secs=${RBSM_FUZZ_SECONDS:-0}  # > 0: also stop each target after this many seconds
shift || true
dir=build-fuzz
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 -DRBSM_FUZZ=ON \
      -DRBSM_WITH_TORCH=OFF -DRBSM_BUILD_TESTS=OFF -DRBSM_BUILD_BENCH=OFF -DRBSM_BUILD_CLI=OFF -DRBSM_BUILD_PYTHON=OFF \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-DNDEBUG" "-DCMAKE_CXX_FLAGS=$flags" \
      "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" >/dev/null
cmake --build "$dir" -j "${RBSM_JOBS:-2}"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(manifold_spec density_spec mixture_json idx png points field_spec checkpoint_header)
mkdir -p "$dir/artifacts"
for t in "${targets[@]}"; do
  mkdir -p "$dir/corpus/$t"
  echo "== fuzz_$t: $runs runs" >&2
  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$dir/fuzz/fuzz_$t" -runs="$runs" -max_total_time="$secs" -timeout=1 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/$t-" "$dir/corpus/$t" "fuzz/corpus/$t" 2>&1 | tail -25
done
