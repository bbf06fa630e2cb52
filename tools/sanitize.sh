#!/usr/bin/env bash
# Builds the fast test suites and the CLI with AddressSanitizer + UndefinedBehaviorSanitizer into
# build-asan/ (clang; the build tools/fuzz.sh shares, see tools/asan_configure.sh) and runs them.
# Any report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/asan_configure.sh
# Only what the fast suites run: the test programs and the CLI (not the benchmark or the consumer).
cmake --build build-asan -j"$(nproc)" --target test_autodiff test_nn test_attribution integrad
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The hostile-input script (tests/cli/check_errors.sh) leaves its two reports to the release run:
# at -O0 under ASan they were 85 of its 120 s, the longest test of this phase.
export INTEGRAD_SANITIZED=1
# The unit suites and the hostile-input CLI cases, side by side. Left to the release run: the
# behaviour checks (resuming, chunking and shards are bit-for-bit comparisons; the memory-limit
# test cannot run under ASan, whose shadow memory needs terabytes of address space) and what is
# not built here.
ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -LE slow -E "consumer_package|python|docs_method_table|cli_resume|cli_scale|cli_bounded_memory|cli_parallel_shards"
