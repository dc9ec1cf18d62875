#!/usr/bin/env bash
# An installed rbsm works without its source tree (issue 15): `cmake --install` into a fresh prefix, a
# consumer project built with find_package(rbsm) and installed beside it, which then draws a figure and
# reads a shipped data file. The files it used must be the installed ones (prefix/share/rbsm), found
# relative to the program, not the source tree the library was built from.
# Usage: install_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" > "$tmp/install.log"
test -f "$prefix/share/rbsm/scripts/plot_figure.py" || { echo "plot_figure.py not installed"; exit 1; }
test -f "$prefix/lib/cmake/rbsm/rbsmConfig.cmake" || { echo "rbsmConfig.cmake not installed"; exit 1; }
cmake -S "$src/consumer" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_RUNTIME_OUTPUT_DIRECTORY="$prefix/bin" > "$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/build" -j2 > "$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
unset RBSM_SHARE_DIR RBSM_DATA_DIR RBSM_PLOT_SCRIPT
out=$("$prefix/bin/rbsm_consumer" "$tmp/fig.png")
echo "$out"
grep -qx "script $prefix/share/rbsm/scripts/plot_figure.py" <<< "$out" || { echo "plotting script not the installed one"; exit 1; }
grep -qx "data $prefix/share/rbsm/data/earth/volerup.csv" <<< "$out" || { echo "data file not the installed one"; exit 1; }
head -c 8 "$tmp/fig.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" || { echo "no PNG written"; exit 1; }
echo "install test passed"
