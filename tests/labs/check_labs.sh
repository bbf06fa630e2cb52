#!/usr/bin/env bash
# The labs (docs/labs/*.ipynb) and their solutions run top to bottom with jupyter nbconvert
# (Debian's jupyter-nbconvert, python3-nbclient, python3-ipykernel), against the module in
# BUILD_DIR/python; a cell that raises fails the test. Prints each notebook's time.
# Usage: check_labs.sh BUILD_DIR [NOTEBOOK...]
set -uo pipefail
build="$(cd "$1" && pwd)"
shift
labs="$(cd "$(dirname "$0")/../../docs/labs" && pwd)"
command -v jupyter-nbconvert >/dev/null || { echo "skip: jupyter-nbconvert is not installed (apt-get install jupyter-nbconvert python3-nbclient python3-ipykernel)"; exit 77; }
[ -d "$build/python/integrad" ] || { echo "skip: the Python module is not built in $build/python"; exit 77; }
# The notebooks are what their sources (docs/labs/src) give.
/usr/bin/python3 "$labs/make_labs.py" --check || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
notebooks=("$@")
[ ${#notebooks[@]} -gt 0 ] || notebooks=("$labs"/*.ipynb)
failures=0
for nb in "${notebooks[@]}"; do
  start=$(date +%s%N)
  # The notebooks find the module through INTEGRAD_BUILD_DIR; figures are drawn without a display.
  if INTEGRAD_BUILD_DIR="$build" MPLBACKEND=Agg OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} \
     jupyter-nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 --ExecutePreprocessor.kernel_name=python3 \
       --output-dir "$work" "$nb" >"$work/log" 2>&1; then
    printf 'ok   %-28s %6d ms\n' "$(basename "$nb")" $(( ($(date +%s%N) - start) / 1000000 ))
  else
    echo "FAIL $(basename "$nb")"; tail -30 "$work/log" | sed 's/^/    /'; failures=$((failures + 1))
  fi
done
[ "$failures" -eq 0 ]
