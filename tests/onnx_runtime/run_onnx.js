// Runs an ONNX model in onnxruntime (npm's onnxruntime-node) on one input from a .npy file and
// writes its first output as .npy: the other side of tests/onnx_runtime/check_parity.sh.
//   node run_onnx.js MODEL.onnx INPUT.npy OUTPUT.npy [float32|float64|int64]
// A model of several inputs takes them by name: INPUT is "name=a.npy,name=b.npy".
// The last argument converts the input to the model's input type first (integrad writes token ids
// as float32 .npy; an exported token model takes int64).
// Exits 77 (CTest's skip) when onnxruntime-node is not installed here.
'use strict';
const fs = require('fs');

let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  console.error('onnxruntime-node is not installed (cd tests/onnx_runtime && ONNXRUNTIME_NODE_INSTALL=skip npm ci): ' + e.message);
  process.exit(77);
}

const kinds = {
  '<f4': ['float32', Float32Array],
  '<f8': ['float64', Float64Array],
  '<i8': ['int64', BigInt64Array],
};

function convert(tensor, type) {
  if (!type || type === tensor.type) return tensor;
  const target = Object.values(kinds).find((k) => k[0] === type);
  if (!target) throw new Error('unknown input type ' + type);
  const out = new target[1](tensor.data.length);
  for (let i = 0; i < out.length; ++i) out[i] = type === 'int64' ? BigInt(Math.trunc(Number(tensor.data[i]))) : Number(tensor.data[i]);
  return new ort.Tensor(type, out, tensor.dims);
}

function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(path + ': not a .npy file');
  const major = buf[6];
  const headerLength = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(path + ': Fortran order is not supported');
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const kind = kinds[descr];
  if (!kind) throw new Error(path + ': dtype ' + descr + ' is not one of ' + Object.keys(kinds).join(', '));
  const offset = start + headerLength;
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = buf.subarray(offset, offset + count * kind[1].BYTES_PER_ELEMENT);
  const data = new kind[1](new Uint8Array(bytes).buffer);  // a copy: aligned whatever the header length
  return new ort.Tensor(kind[0], data, shape);
}

function writeNpy(path, tensor) {
  const descr = Object.keys(kinds).find((k) => kinds[k][0] === tensor.type);
  if (!descr) throw new Error('output dtype ' + tensor.type + ' cannot be written');
  const shape = tensor.dims.length === 1 ? '(' + tensor.dims[0] + ',)' : '(' + tensor.dims.join(', ') + ')';
  let header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ', }';
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const data = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  fs.writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), data]));
}

async function main() {
  const [modelPath, inputPath, outputPath, inputType] = process.argv.slice(2);
  if (!outputPath) {
    console.error('usage: node run_onnx.js MODEL.onnx INPUT.npy OUTPUT.npy');
    process.exit(2);
  }
  const session = await ort.InferenceSession.create(modelPath);
  const feeds = {};
  if (inputPath.includes('=')) {
    for (const part of inputPath.split(',')) {
      const eq = part.indexOf('=');
      feeds[part.slice(0, eq)] = convert(readNpy(part.slice(eq + 1)), inputType);
    }
  } else {
    feeds[session.inputNames[0]] = convert(readNpy(inputPath), inputType);
  }
  const results = await session.run(feeds);
  writeNpy(outputPath, results[session.outputNames[0]]);
}

module.exports = { ort, readNpy };  // tools/bench/bench_ort.js times a session on the same inputs

if (require.main === module) {
  main().catch((e) => {
    console.error('run_onnx.js: ' + (e && e.message ? e.message : e));
    process.exit(1);
  });
}
