#!/usr/bin/env bash
# Installs what integrad needs from Debian's packages (only what is missing), then configures and
# builds the integrad program and the Python module into build/ (tools/test.sh builds the test suites). Idempotent: a
# second run installs nothing and rebuilds only what changed.
# Extra packages can be asked for with INTEGRAD_EXTRA_PACKAGES="pkg1 pkg2".
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake make pkg-config libfmt-dev doctest-dev libstb-dev zlib1g-dev libcli11-dev nlohmann-json3-dev dataset-fashion-mnist
          pybind11-dev python3-dev python3-numpy python3-pytest python3-matplotlib)  # the Python module and its tests
packages+=(python3-sklearn)  # scikit-learn's bundled data files: --data breast-cancer|wine|iris|diabetes|digits (docs/datasets.md)
packages+=(python3-venv python3-pip python3-setuptools python3-wheel)  # pip install . in a venv, offline (docs/python.md)
packages+=(jupyter-nbconvert python3-nbclient python3-ipykernel)  # the labs (docs/labs), executed by the test `labs`
packages+=(libcpp-httplib-dev)  # the explorer's HTTP server (integrad serve), found by pkg-config
packages+=(libonnx-dev libprotobuf-dev python3-onnx libonnx-testdata)  # ONNX models in and out (docs/onnx.md): the protobuf classes, checker, conformance data
packages+=(parallel)  # GNU parallel: the sharded-run test (tests/cli/check_parallel_shards.sh) and docs/scale.md's example
# shellcheck disable=SC2206
packages+=(${INTEGRAD_EXTRA_PACKAGES:-})

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # The data set is optional: without it integrad falls back to a synthetic set, so a failure to
  # install it alone must not stop the build.
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]/dataset-fashion-mnist}" >/dev/null
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE="${INTEGRAD_BUILD_TYPE:-Release}" ${INTEGRAD_CMAKE_ARGS:-} >/dev/null
cmake --build build -j"$(nproc)" --target integrad
# The Python module (PYTHONPATH=build/python), when CMake found pybind11 for it.
if [ -d build/python/CMakeFiles/_integrad.dir ]; then cmake --build build -j"$(nproc)" --target _integrad; fi
