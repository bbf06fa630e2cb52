#!/usr/bin/env bash
# Installs npm's onnxruntime-node into tests/onnx_runtime (the version its package-lock.json pins),
# for the test onnx_runtime_parity, which runs what `integrad export` writes in onnxruntime and
# skips where it is absent. Node.js and npm come from Debian when missing. The native library is
# used from the package itself (ONNXRUNTIME_NODE_INSTALL=skip: no download from GitHub, which this
# machine cannot reach). Idempotent; about 300 MB on disk.
set -euo pipefail
cd "$(dirname "$0")/../tests/onnx_runtime"
if ! command -v npm >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
if [ -d node_modules/onnxruntime-node ]; then
  echo "onnxruntime-node is installed in tests/onnx_runtime"
  exit 0
fi
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
