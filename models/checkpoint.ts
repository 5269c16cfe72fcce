/**
 * Checkpoints in the TensorFlow.js weights-manifest layout: NAME.json
 * (config, step, history, weightsManifest) + NAME.weights.bin (float32,
 * little-endian, in manifest order).
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, basename } from 'node:path';
import { type DiverConfig, weightShapes } from './diver/config.ts';
import type { WeightArrays } from './diver/tfmodel.ts';

export interface Checkpoint {
  format: 'neurox-diver-ckpt-v1';
  config: DiverConfig;
  step: number;
  extra: Record<string, unknown>;
  weights: WeightArrays;
}

export function saveCheckpoint(path: string, ck: Omit<Checkpoint, 'format'>, extraWeights: WeightArrays = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  const shapes = weightShapes(ck.config);
  const entries: { name: string; shape: number[]; dtype: 'float32' }[] = [];
  const arrays: Float32Array[] = [];
  for (const [name, shape] of Object.entries(shapes)) {
    entries.push({ name, shape, dtype: 'float32' });
    arrays.push(ck.weights[name]);
  }
  for (const [name, a] of Object.entries(extraWeights)) {
    entries.push({ name, shape: [a.length], dtype: 'float32' });
    arrays.push(a);
  }
  const total = arrays.reduce((s, a) => s + a.length, 0);
  const bin = new Float32Array(total);
  let o = 0;
  for (const a of arrays) {
    bin.set(a, o);
    o += a.length;
  }
  const binName = basename(path).replace(/\.json$/, '') + '.weights.bin';
  writeFileSync(path.replace(/\.json$/, '') + '.weights.bin', new Uint8Array(bin.buffer));
  const json = {
    format: 'neurox-diver-ckpt-v1',
    config: ck.config,
    step: ck.step,
    extra: ck.extra,
    weightsManifest: [{ paths: [binName], weights: entries }],
  };
  writeFileSync(path, JSON.stringify(json, null, 1));
}

export function loadCheckpoint(path: string): Checkpoint & { extraWeights: WeightArrays } {
  const json = JSON.parse(readFileSync(path, 'utf8'));
  if (json.format !== 'neurox-diver-ckpt-v1') throw new Error(`${path}: not a neurox DIVER checkpoint`);
  const buf = readFileSync(path.replace(/\.json$/, '') + '.weights.bin');
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const weights: WeightArrays = {};
  const extraWeights: WeightArrays = {};
  const shapes = weightShapes(json.config);
  let o = 0;
  for (const e of json.weightsManifest[0].weights as { name: string; shape: number[] }[]) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const a = all.slice(o, o + n);
    o += n;
    if (shapes[e.name]) weights[e.name] = a;
    else extraWeights[e.name] = a;
  }
  for (const k of Object.keys(shapes)) if (!weights[k]) throw new Error(`${path}: missing weight ${k}`);
  return { format: json.format, config: json.config, step: json.step, extra: json.extra ?? {}, weights, extraWeights };
}
