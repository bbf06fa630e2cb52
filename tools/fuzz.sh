#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/fuzz_*.cpp) with clang, ASan and UBSan into
# build-asan/ (the build tools/sanitize.sh uses), then runs each for a bounded time (FUZZ_SECONDS,
# default 30) on a copy of its seed corpus (tests/fuzz/corpus/NAME). A crash fails the run and
# leaves the input in build-asan/. So does a slow input (libFuzzer's -timeout): a case of the
# safetensors harness over 1 s fails (its header parser was once quadratic in the entry count),
# one of any other over 25 s. The safetensors inputs stay within 16 KB, with a seed of 250 entries
# generated here: under ASan and coverage a 64 KB header took 1.3 s through the parse and both
# loaders even in linear time. Linear growth at scale is the doctest's (100 000 entries,
# tests/nn/test_hostile_files.cpp).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
# The sanitized build tools/sanitize.sh uses too (tools/asan_configure.sh): after it, only the
# harnesses themselves are compiled here.
bash tools/asan_configure.sh
harnesses=$(basename -s .cpp tests/fuzz/fuzz_*.cpp)
# shellcheck disable=SC2086
cmake --build build-asan -j"$(nproc)" --target $harnesses 2>&1 | grep -E "error|warning: " || true
fuzz() {  # one harness for $seconds on a copy of its seed corpus; its output in build-asan/NAME.log
  local name=$1 corpus=build-asan/corpus/$1
  mkdir -p "$corpus"
  [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$corpus/"
  local timeout=25 max_len=65536  # libFuzzer's default timeout is 1200 s: a hang would pass
  if [ "$name" = fuzz_safetensors ]; then
    timeout=1 max_len=16384
    /usr/bin/python3 - "$corpus/many-entries.safetensors" <<'PY'
import json, struct, sys
header = json.dumps({f"t{i}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for i in range(250)}, separators=(",", ":")).encode()
open(sys.argv[1], "wb").write(struct.pack("<Q", len(header)) + header)
PY
  fi
  echo "fuzz: $name for ${seconds}s (a case over ${timeout}s fails)"
  # A fixed seed: CI replays the same mutations each run, so its verdict does not depend on luck.
  (cd build-asan && "./tests/fuzz/$name" -seed="${FUZZ_SEED:-1}" -max_total_time="$seconds" -max_len="$max_len" -timeout="$timeout" -rss_limit_mb=2048 \
    -print_final_stats=0 "corpus/$name" 2>"$name.log") || { echo "fuzz: $name failed:"; tail -40 "build-asan/$name.log"; return 1; }
}
# One harness per core at a time (each fuzzer is one process on one core): the same fuzzing time
# each in a fraction of the wall time.
failed=0 running=()
for name in $harnesses; do
  fuzz "$name" &
  running+=($!)
  if ((${#running[@]} == $(nproc))); then
    for pid in "${running[@]}"; do wait "$pid" || failed=1; done
    running=()
  fi
done
for pid in "${running[@]}"; do wait "$pid" || failed=1; done
((failed == 0)) || exit 1
echo "fuzz: no crash in $(ls tests/fuzz/fuzz_*.cpp | wc -l) harnesses"
