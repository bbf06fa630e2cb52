// The onnxruntime side of tools/bench/bench_onnx.py: a forward pass of an ONNX model over the
// images of a .npy file, timed in-process as integrad_bench times `job forward`: the session is
// created and the images read before the clock starts, then the images run in parts of 256
// (integrad's predict batch), one session.run each. Prints "compute_s SECONDS".
//   node tools/bench/bench_ort.js MODEL.onnx X.npy THREADS
// Needs onnxruntime-node in tests/onnx_runtime (tools/install_onnxruntime.sh); exits 77 without it.
'use strict';
const path = require('path');
const { ort, readNpy } = require(path.join(__dirname, '..', '..', 'tests', 'onnx_runtime', 'run_onnx.js'));

const kPart = 256;

async function main() {
  const [modelPath, inputPath, threads] = process.argv.slice(2);
  if (!threads || !(Number(threads) >= 1)) {
    console.error('usage: node bench_ort.js MODEL.onnx X.npy THREADS');
    process.exit(2);
  }
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const x = readNpy(inputPath);
  const [n, ...rest] = x.dims;
  const perExample = rest.reduce((a, b) => a * b, 1);
  const parts = [];
  for (let s = 0; s < n; s += kPart) {
    const e = Math.min(n, s + kPart);
    parts.push(new ort.Tensor(x.type, x.data.subarray(s * perExample, e * perExample), [e - s, ...rest]));
  }
  const t0 = process.hrtime.bigint();
  for (const part of parts) await session.run({ [session.inputNames[0]]: part });
  const seconds = Number(process.hrtime.bigint() - t0) * 1e-9;
  console.log('compute_s ' + seconds.toFixed(4));
}

main().catch((e) => {
  console.error('bench_ort.js: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
