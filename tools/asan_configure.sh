#!/usr/bin/env bash
# Configures build-asan/, the one sanitized build that tools/sanitize.sh (the test suites and the
# CLI) and tools/fuzz.sh (the libFuzzer harnesses) share: clang with AddressSanitizer +
# UndefinedBehaviorSanitizer everywhere and libFuzzer's coverage instrumentation (fuzzer-no-link),
# so the library is compiled once for both. Both scripts call this with the same flags: a change
# here rebuilds everything. Needs clang, libclang-rt-14-dev and libomp-14-dev (OpenMP under clang).
set -euo pipefail
cd "$(dirname "$0")/.."
# -O0 with line tables only: reports keep file and line, and the build takes far less of CI's 15
# minutes than -O1. The kernels alone (autodiff/) at -O1: the suites spend most of their time in
# GEMMs and convolutions, which run 4-5 times faster so, for a few seconds more of compiling.
# -ffp-contract=off: GCC's rule in ISO C++ mode (our release build), not clang's default of fusing
# a*b+c into FMAs, so the suites' tolerances and bit-for-bit checks mean the same in both builds.
# A build-asan/ from before, configured with GCC, is started afresh: CMake, seeing the compiler
# change, would delete its cache and forget the options given here (no sanitizers at all).
if [ -f build-asan/CMakeCache.txt ] && ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang' build-asan/CMakeCache.txt; then
  rm -rf build-asan
fi
cmake -S . -B build-asan -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O0 -gline-tables-only" \
  -DINTEGRAD_SANITIZE=ON -DINTEGRAD_FUZZ=ON -DINTEGRAD_NATIVE=ON -DINTEGRAD_AUTODIFF_OPTIONS=-O1 \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link -ffp-contract=off" "$@" >/dev/null
