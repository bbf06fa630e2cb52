#!/usr/bin/env bash
# Kernels (GEMM, conv2d) in integrad and in PyTorch, then the workloads of tools/bench/compare.py:
# each timed the same way on both sides (in-process compute, loading excluded), with whole-process
# job times in separate columns, FLOP counts and the fraction of this machine's GEMM peak.
# Needs a build (bash tools/setup.sh), Fashion-MNIST, PyTorch for /usr/bin/python3 (python3-torch),
# scikit-learn (python3-sklearn, for Captum's KernelShap) and Captum 0.8 (CAPTUM_PATH, default
# /work/captum). Arguments go to compare.py (--only ig,saliency, --repeats 3).
set -euo pipefail
cd "$(dirname "$0")/../.."
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "PyTorch is not importable by /usr/bin/python3 (apt-get install python3-torch)"; exit 1; }
cmake --build build --target integrad integrad_bench >/dev/null
echo "== kernels (integrad)"
./build/integrad_bench
echo "== kernels (PyTorch)"
/usr/bin/python3 tools/bench/bench_torch.py
echo "== workloads"
python3 tools/bench/compare.py "$@"
