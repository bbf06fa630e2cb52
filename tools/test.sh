#!/usr/bin/env bash
# Builds whatever is not built yet (the test suites, the benchmark), then runs every test suite
# (fast ones and those labelled `slow`) and prints CTest's summary. Needs tools/setup.sh first.
# Pass CTest options through, e.g. `bash tools/test.sh -LE slow` for the fast ones only.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/CMakeCache.txt ] || { echo "no build yet: run bash tools/setup.sh (or tools/quickstart.sh) first" >&2; exit 1; }
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure "$@"
