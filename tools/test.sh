#!/usr/bin/env bash
# Runs every test suite (fast ones and those labelled `slow`) and prints CTest's summary.
# Pass CTest options through, e.g. `bash tools/test.sh -LE slow` for the fast ones only.
set -euo pipefail
cd "$(dirname "$0")/.."
ctest --test-dir build --output-on-failure "$@"
