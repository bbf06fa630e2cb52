#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/fuzz_*.cpp) with clang, ASan and UBSan into
# build-fuzz/, then runs each for a bounded time (FUZZ_SECONDS, default 30) on a copy of its seed
# corpus (tests/fuzz/corpus/NAME). A crash fails the run and leaves the input in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
# -O0 with line tables only: crash reports keep file and line, and the build takes far less of
# CI's 15 minutes than -O1 (the few seconds of fuzzing in CI are a smoke run, not a campaign).
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O0 -gline-tables-only" \
  -DINTEGRAD_FUZZ=ON -DINTEGRAD_TESTS=OFF -DINTEGRAD_OPENMP=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
harnesses=$(basename -s .cpp tests/fuzz/fuzz_*.cpp)
# shellcheck disable=SC2086
cmake --build build-fuzz -j"$(nproc)" --target $harnesses 2>&1 | grep -E "error|warning: " || true
for harness in tests/fuzz/fuzz_*.cpp; do
  name=$(basename "$harness" .cpp)
  corpus=build-fuzz/corpus/$name
  mkdir -p "$corpus"
  [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$corpus/"
  echo "fuzz: $name for ${seconds}s"
  # A fixed seed: CI replays the same mutations each run, so its verdict does not depend on luck.
  (cd build-fuzz && "./tests/fuzz/$name" -seed="${FUZZ_SEED:-1}" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
    -print_final_stats=0 "corpus/$name" 2>"$name.log") || { tail -40 "build-fuzz/$name.log"; exit 1; }
done
echo "fuzz: no crash in $(ls tests/fuzz/fuzz_*.cpp | wc -l) harnesses"
