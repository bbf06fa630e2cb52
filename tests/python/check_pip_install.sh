#!/usr/bin/env bash
# `pip install --no-build-isolation .` in a venv made with --system-site-packages, offline, with
# Debian's packages alone (python3-venv, python3-pip, python3-setuptools, python3-wheel); then the
# installed package imports outside the source tree and predicts. Usage: check_pip_install.sh BUILD_DIR
set -euo pipefail
source_dir="$(cd "$(dirname "$0")/../.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for m in venv pip setuptools wheel; do
  /usr/bin/python3 -c "import $m" 2>/dev/null || { echo "skip: python3 module $m is missing (apt-get install python3-$m)"; exit 77; }
done
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
# setup.py reuses BUILD_DIR, configured for this interpreter (a venv's python is the base one):
# the install costs a link, not a second build of the library. Without it, build-pip/ is made.
INTEGRAD_CMAKE_BUILD_DIR="$1" PIP_NO_INDEX=1 "$work/venv/bin/python" -m pip install --no-build-isolation --no-deps -q "$source_dir"
cd "$work"
"$work/venv/bin/python" - "$source_dir/tests/data/torch/mlp_f64.safetensors" <<'PY'
import sys, numpy as np, integrad, integrad.plot
assert "/venv/" in integrad.__file__, integrad.__file__
m = integrad.load(sys.argv[1])
assert m.predict(np.zeros((2, 3, 4))).shape == (2, 4)
print("pip install: ok,", integrad.__file__)
PY
