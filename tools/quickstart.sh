#!/usr/bin/env bash
# The main job: install what is missing, build, then (as the pieces exist) train a model,
# explain it and check the axioms, writing everything into out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
./build/integrad --help
