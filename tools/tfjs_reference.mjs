#!/usr/bin/node
// Reference runner: executes the ORIGINAL TF.js graph model on the pure-JS CPU
// backend so the ONNX conversion can be checked against it numerically.
//
// usage: node tfjs_reference.mjs [--npm-dir DIR] [--layout auto|nchw|nhwc]
//                                MODEL.json OUT_DIR INPUT.f32 [INPUT.f32 ...]
//
// Each INPUT is raw little-endian float32 in NCHW order; its batch size is
// derived from the file size and the model's input H/W/C. For every input k
// and every model output, OUT_DIR/in<k>_<output>.f32 is written, plus
// OUT_DIR/outputs.json listing names, shapes and files.
// Modules are resolved from --npm-dir, $SLIPSTREAM_NPM_DIR or
// ${SLIPSTREAM_CACHE:-$XDG_CACHE_HOME/slipstream}/npm (tfjs-node is not
// available, so files are fed to tfjs-converter through a custom IOHandler).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

function usage(msg) {
  if (msg) process.stderr.write(`tfjs_reference: ${msg}\n`);
  process.stderr.write('usage: tfjs_reference.mjs [--npm-dir DIR] [--layout auto|nchw|nhwc] MODEL.json OUT_DIR INPUT.f32...\n');
  process.exit(2);
}

const args = process.argv.slice(2);
let npmDir = process.env.SLIPSTREAM_NPM_DIR || '';
let layout = 'auto';
const pos = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--npm-dir') npmDir = args[++i];
  else if (args[i] === '--layout') layout = args[++i];
  else if (args[i].startsWith('--')) usage(`unknown option ${args[i]}`);
  else pos.push(args[i]);
}
if (pos.length < 3) usage();
if (!['auto', 'nchw', 'nhwc'].includes(layout)) usage(`bad --layout ${layout}`);
if (!npmDir) {
  const cache = process.env.SLIPSTREAM_CACHE
    || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'slipstream');
  npmDir = path.join(cache, 'npm');
}
const [modelPath, outDir, ...inputs] = pos;

// Resolve relative to the npm dir so core/backend/converter share one tfjs-core instance.
const req = createRequire(path.join(path.resolve(npmDir), 'package.json'));
let tf;
let converter;
try {
  tf = req('@tensorflow/tfjs-core');
  req('@tensorflow/tfjs-backend-cpu');
  converter = req('@tensorflow/tfjs-converter');
} catch (e) {
  usage(`cannot load tfjs from ${npmDir}: ${e.message}`);
}

function fileHandler(jsonPath) {
  return {
    async load() {
      const model = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
      const dir = path.dirname(jsonPath);
      const specs = [];
      const bufs = [];
      // Groups and their shards are concatenated in manifest order, which is
      // the order the weight specs consume bytes in.
      for (const group of model.weightsManifest || []) {
        specs.push(...group.weights);
        for (const p of group.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
      }
      const all = Buffer.concat(bufs);
      return {
        modelTopology: model.modelTopology,
        format: model.format,
        generatedBy: model.generatedBy,
        convertedBy: model.convertedBy,
        signature: model.signature,
        userDefinedMetadata: model.userDefinedMetadata,
        modelInitializer: model.modelInitializer,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

function safeName(n) {
  return n.replace(/[^A-Za-z0-9_.-]/g, '_');
}

async function main() {
  tf.env().set('PROD', true); // silences the "install tfjs-node" banner
  await tf.setBackend('cpu');
  await tf.ready();
  const model = await converter.loadGraphModel(fileHandler(modelPath));
  const inNode = model.inputs[0];
  const inShape = inNode.shape; // e.g. [1,3,416,416] or [1,512,512,3]
  if (!inShape || inShape.length !== 4) throw new Error(`expected a rank-4 input, got ${JSON.stringify(inShape)}`);
  const nhwc = layout === 'nhwc' || (layout === 'auto' && inShape[3] <= 4 && inShape[1] > 4);
  const [c, h, w] = nhwc ? [inShape[3], inShape[1], inShape[2]] : [inShape[1], inShape[2], inShape[3]];
  const outNames = model.outputs.map((o) => o.name);
  fs.mkdirSync(outDir, { recursive: true });
  const index = [];
  for (let k = 0; k < inputs.length; k++) {
    const raw = fs.readFileSync(inputs[k]);
    const per = c * h * w * 4;
    if (raw.length === 0 || raw.length % per !== 0) {
      throw new Error(`${inputs[k]}: size ${raw.length} is not a multiple of 3*${h}*${w}*4`);
    }
    const n = raw.length / per;
    const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
    // The graph has a fixed batch of 1: run the items one by one and stack.
    const perItem = [];
    for (let b = 0; b < n; b++) {
      perItem.push(tf.tidy(() => {
        let x = tf.tensor4d(data.subarray(b * c * h * w, (b + 1) * c * h * w), [1, c, h, w], 'float32');
        if (nhwc) x = tf.transpose(x, [0, 2, 3, 1]);
        const r = model.execute(x, outNames);
        return Array.isArray(r) ? r : [r];
      }));
    }
    const outs = outNames.map((_, j) => {
      const t = n === 1 ? perItem[0][j] : tf.concat(perItem.map((o) => o[j]), 0);
      if (n !== 1) perItem.forEach((o) => o[j].dispose());
      return t;
    });
    const entry = { input: inputs[k], outputs: [] };
    for (let j = 0; j < outs.length; j++) {
      const file = path.join(outDir, `in${k}_${safeName(outNames[j])}.f32`);
      const vals = await outs[j].data();
      const f32 = vals instanceof Float32Array ? vals : Float32Array.from(vals);
      fs.writeFileSync(file, Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength));
      entry.outputs.push({ name: outNames[j], shape: outs[j].shape, dtype: outs[j].dtype, file });
      outs[j].dispose();
    }
    index.push(entry);
  }
  fs.writeFileSync(path.join(outDir, 'outputs.json'), `${JSON.stringify(index, null, 1)}\n`);
}

main().catch((e) => {
  process.stderr.write(`tfjs_reference: error: ${e.message}\n`);
  process.exit(1);
});
