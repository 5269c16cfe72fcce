/**
 * Exactness of the DIVER-S serving path: tfjs training graph vs the ONNX step
 * written by models/diver/export.ts and run by the worker-thread runner.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { studentConfig, teacherConfig, featDim, nClasses, type DiverConfig } from '../../models/diver/config.ts';
import { initWeights, toTensors, forward, type WeightArrays } from '../../models/diver/tfmodel.ts';
import { writeStepOnnx, quantizeWeights } from '../../models/diver/export.ts';
import { loadModel, type ModelRunner } from '../../src/model/index.ts';
import { GraphBuilder } from '../../models/onnx/builder.ts';
import { DT } from '../../models/onnx/proto.ts';

const cfg: DiverConfig = studentConfig();
const C = 7;
const T = 6;
let dir = '';
let w: WeightArrays;

function randn(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = (s + 0.5) / 4294967296;
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const v = (s + 0.5) / 4294967296;
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

const F = featDim(cfg);
const P = cfg.posDim;
const K = nClasses(cfg);
const xs = randn(T * C * F, 11);
const pos = randn(C * P, 12, 0.5);

async function tfjsFull(weights: WeightArrays, speech?: number[], c: DiverConfig = cfg): Promise<{ logits: Float32Array; emb: Float32Array; surprise: Float32Array }> {
  const W = toTensors(c, weights);
  const out = forward(c, W, {
    x: tf.tensor(xs, [1, T, C, F]),
    pos: tf.tensor(pos, [1, C, P]),
    speech: speech ? tf.tensor(speech, [1, T], 'int32') : undefined,
  });
  return {
    logits: (await out.logits.data()) as Float32Array,
    emb: (await out.emb.data()) as Float32Array,
    surprise: (await out.surprise.data()) as Float32Array,
  };
}

async function runSteps(r: ModelRunner, perm?: number[], speech?: number[]) {
  r.reset();
  const res = [];
  for (let t = 0; t < T; t++) {
    const x = new Float32Array(C * F);
    const p = new Float32Array(C * P);
    for (let c = 0; c < C; c++) {
      const src = perm ? perm[c] : c;
      x.set(xs.subarray((t * C + src) * F, (t * C + src + 1) * F), c * F);
      p.set(pos.subarray(src * P, (src + 1) * P), c * P);
    }
    res.push(await r.step({ x, posCode: p, nChannels: C, featDim: F, posDim: P }, { speech: speech?.[t] }));
  }
  return res;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

before(async () => {
  await tf.setBackend('wasm');
  dir = mkdtempSync(join(tmpdir(), 'neurox-model-'));
  w = initWeights(cfg, 7);
  // non-trivial input standardisation buffers, so the exactness tests cover them
  const SF = cfg.posDim * F;
  w['norm.mu'] = randn(F, 21, 0.3);
  w['norm.isd'] = randn(F, 22, 0.2).map((v) => 1 + Math.abs(v));
  w['skip.mu'] = randn(SF, 23, 0.1);
  w['skip.isd'] = randn(SF, 24, 0.5).map((v) => 1 + Math.abs(v));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('ONNX stepwise with TS-held KV cache equals tfjs full-sequence run (float32)', async () => {
  const path = join(dir, 'f32.onnx');
  writeStepOnnx(path, cfg, w);
  const ref = await tfjsFull(w);
  const r = await loadModel(path);
  try {
    assert.equal(r.info.backend, 'cpu');
    assert.equal(r.info.engine, 'ort-c-api');
    assert.deepEqual(r.info.kv, { layers: cfg.layers, heads: cfg.heads, headDim: cfg.dModel / cfg.heads });
    const steps = await runSteps(r);
    for (let t = 0; t < T; t++) {
      assert.ok(maxAbsDiff(steps[t].logits, ref.logits.subarray(t * K, (t + 1) * K)) < 1e-4, `logits t=${t}`);
      assert.ok(maxAbsDiff(steps[t].embedding, ref.emb.subarray(t * cfg.dModel, (t + 1) * cfg.dModel)) < 1e-4, `emb t=${t}`);
      assert.ok(Math.abs(steps[t].surprise - ref.surprise[t]) < 1e-4 * Math.max(1, ref.surprise[t]), `surprise t=${t}`);
      // per-paradigm probabilities sum to one
      for (const a of r.adapters) {
        let s = 0;
        for (let i = a.start; i < a.end; i++) s += steps[t].probs[i];
        assert.ok(Math.abs(s - 1) < 1e-5);
      }
    }
    assert.equal(r.cache.length, T);
    assert.deepEqual(r.cache.positions, [0, 1, 2, 3, 4, 5]);
    // stepping again after reset reproduces the same outputs
    const again = await runSteps(r);
    assert.ok(maxAbsDiff(again[T - 1].logits, steps[T - 1].logits) === 0);
    // a speech stream present changes the output and still matches tfjs
    const speech = [0, 3, 3, 0, 7, 1];
    const refS = await tfjsFull(w, speech);
    const stS = await runSteps(r, undefined, speech);
    assert.ok(maxAbsDiff(stS[T - 1].logits, refS.logits.subarray((T - 1) * K)) < 1e-4);
    assert.ok(maxAbsDiff(stS[T - 1].logits, steps[T - 1].logits) > 1e-4);
  } finally {
    await r.close();
  }
});

test('other shapes export exactly too: the teacher (two spatial layers with MLPs), cut to two temporal layers', async () => {
  const c2: DiverConfig = { ...teacherConfig(), layers: 2 };
  const w2 = initWeights(c2, 9);
  w2['norm.mu'] = randn(F, 31, 0.3);
  w2['skip.isd'] = randn(P * F, 32, 0.5).map((v) => 1 + Math.abs(v));
  const path = join(dir, 'c2.onnx');
  writeStepOnnx(path, c2, w2);
  const ref = await tfjsFull(w2, undefined, c2);
  const r = await loadModel(path);
  try {
    assert.deepEqual(r.info.kv, { layers: 2, heads: c2.heads, headDim: c2.dModel / c2.heads });
    const steps = await runSteps(r);
    for (let t = 0; t < T; t++) {
      assert.ok(maxAbsDiff(steps[t].logits, ref.logits.subarray(t * K, (t + 1) * K)) < 1e-4, `logits t=${t}`);
      assert.ok(Math.abs(steps[t].surprise - ref.surprise[t]) < 1e-4 * Math.max(1, ref.surprise[t]), `surprise t=${t}`);
    }
  } finally {
    await r.close();
  }
});

test('permuting channel order leaves logits, embedding and surprise unchanged', async () => {
  const path = join(dir, 'perm.onnx');
  writeStepOnnx(path, cfg, w);
  const r = await loadModel(path);
  try {
    const a = await runSteps(r);
    const perm = [3, 0, 6, 2, 5, 1, 4];
    const b = await runSteps(r, perm);
    for (let t = 0; t < T; t++) {
      assert.ok(maxAbsDiff(a[t].logits, b[t].logits) < 1e-5, `t=${t} ${maxAbsDiff(a[t].logits, b[t].logits)}`);
      assert.ok(maxAbsDiff(a[t].embedding, b[t].embedding) < 1e-5);
      assert.ok(Math.abs(a[t].surprise - b[t].surprise) < 1e-5);
    }
  } finally {
    await r.close();
  }
});

test('int8 ONNX student equals its dequantised tfjs twin; the window policy bounds the cache', async () => {
  const { quant, dequant } = quantizeWeights(cfg, w);
  const path = join(dir, 'int8.onnx');
  const bytesQ = writeStepOnnx(path, cfg, w, { quant });
  const bytesF = writeStepOnnx(join(dir, 'f.onnx'), cfg, w);
  assert.ok(bytesQ < bytesF / 3, `int8 file ${bytesQ} vs float ${bytesF}`);
  const ref = await tfjsFull(dequant);
  const r = await loadModel(path, { cacheBudget: 4 });
  try {
    assert.equal(r.info.quantized, true);
    const steps = await runSteps(r);
    // within the budget the cache is exact, so the first 4 steps match the full run
    for (let t = 0; t < 4; t++) {
      assert.ok(maxAbsDiff(steps[t].logits, ref.logits.subarray(t * K, (t + 1) * K)) < 1e-4, `t=${t} ${maxAbsDiff(steps[t].logits, ref.logits.subarray(t * K, (t + 1) * K))}`);
    }
    assert.equal(r.cache.length, 4);
    assert.deepEqual(r.cache.positions, [2, 3, 4, 5]);
    // quantisation error vs the float model is small but nonzero
    const refF = await tfjsFull(w);
    const dq = maxAbsDiff(ref.logits, refF.logits);
    assert.ok(dq > 0 && dq < 0.5, `int8 vs float logits ${dq}`);
  } finally {
    await r.close();
  }
});

test('the default cache budget is the context the model declares (metadata cacheFrames)', async () => {
  const path = join(dir, 'ctx3.onnx');
  writeStepOnnx(path, cfg, w, { metadata: { cacheFrames: 3 } });
  const r = await loadModel(path);
  try {
    await runSteps(r);
    assert.equal(r.cache.length, 3);
    assert.deepEqual(r.cache.positions, [3, 4, 5]);
  } finally {
    await r.close();
  }
  // an explicit budget wins
  const r2 = await loadModel(path, { cacheBudget: 5 });
  try {
    await runSteps(r2);
    assert.equal(r2.cache.length, 5);
  } finally {
    await r2.close();
  }
});

test('external model without neurox metadata loads through the same path; gpu request falls back cleanly', async () => {
  const path = join(dir, 'bare.onnx');
  writeStepOnnx(path, cfg, w, { bare: true });
  const r = await loadModel(path, { device: 'gpu' });
  try {
    assert.equal(r.info.kind, 'external');
    assert.equal(r.labels.length, K);
    assert.equal(r.labels[0], 'class0');
    assert.ok(r.info.backend === 'cuda' || (r.info.backend === 'cpu' && typeof r.info.fallbackReason === 'string'));
    const s = await runSteps(r);
    assert.equal(s.length, T);
  } finally {
    await r.close();
  }
  await assert.rejects(loadModel(join(dir, 'missing.onnx')), /ENOENT|no such file/);
});

test('shared-memory channel grows for large montages and long caches; errors come back as rejections', async () => {
  const path = join(dir, 'grow.onnx');
  writeStepOnnx(path, cfg, w);
  const r = await loadModel(path, { cacheBudget: 300 });
  try {
    const Cbig = 300; // more than the initial 256-channel buffer
    const x = randn(Cbig * F, 31);
    const p = randn(Cbig * P, 32, 0.5);
    let last;
    for (let t = 0; t < 3; t++) last = await r.step({ x, posCode: p, nChannels: Cbig, featDim: F, posDim: P });
    assert.ok(last && last.logits.every(Number.isFinite) && Number.isFinite(last.surprise));
    assert.equal(r.cache.length, 3);
    await assert.rejects(r.step({ x: new Float32Array(3), posCode: p, nChannels: Cbig, featDim: F, posDim: P }), /sizes/);
    // the runner still works after a rejected step
    const again = await r.step({ x, posCode: p, nChannels: Cbig, featDim: F, posDim: P });
    assert.equal(again.t, 3);
  } finally {
    await r.close();
  }
});

/**
 * A toy model with the external step signature (L=1, H=2, Dh=2, F=4, P=2):
 * the new K frame is the channel mean of x, V = 2·K, present = decay·past ⊕
 * new frame, logits = [Σ present_k, Σ present_v], embedding = the new K frame.
 * decay ≠ 1 breaks the "present = past ⊕ new frame" contract.
 */
function toyStep(decay: number): Uint8Array {
  const g = new GraphBuilder();
  g.input('x', DT.FLOAT, [1, 'C', 4]);
  g.input('pos_code', DT.FLOAT, [1, 'C', 2]);
  g.input('t', DT.INT64, [1]);
  g.input('past_k', DT.FLOAT, [1, 2, 'T', 2]);
  g.input('past_v', DT.FLOAT, [1, 2, 'T', 2]);
  const m = g.o('ReduceMean', ['x'], { axes: [1], keepdims: 0 });
  const kNew = g.o('Reshape', [m, g.i64([1, 2, 1, 2])]);
  const vNew = g.o('Mul', [kNew, g.f(2)]);
  const pk = decay === 1 ? 'past_k' : g.o('Mul', ['past_k', g.f(decay)]);
  const pv = decay === 1 ? 'past_v' : g.o('Mul', ['past_v', g.f(decay)]);
  g.o('Concat', [pk, kNew], { axis: 2 }, 'present_k');
  g.o('Concat', [pv, vNew], { axis: 2 }, 'present_v');
  const sum = (v: string) => g.o('Reshape', [g.o('ReduceSum', [v], { keepdims: 1 }), g.i64([1, 1])]);
  g.o('Concat', [sum('present_k'), sum('present_v')], { axis: 1 }, 'logits');
  g.o('Identity', [m], {}, 'embedding');
  g.output('logits', DT.FLOAT, [1, 2]);
  g.output('embedding', DT.FLOAT, [1, 4]);
  g.output('present_k', DT.FLOAT, [1, 2, 'T1', 2]);
  g.output('present_v', DT.FLOAT, [1, 2, 'T1', 2]);
  return g.build({ graphName: 'toy', opset: 17, producer: 'neurox-test' });
}

/** Step a toy model `n` times and check logits and the cache against the same recurrence in JS. */
async function checkToy(r: ModelRunner, decay: number, n: number, keep: number): Promise<void> {
  const Ct = 3;
  let ref: number[][] = []; // frames of K, [H·Dh] each
  for (let t = 0; t < n; t++) {
    const x = randn(Ct * 4, 100 + t);
    const m = [0, 1, 2, 3].map((i) => (x[i] + x[4 + i] + x[8 + i]) / Ct);
    ref = [...ref.map((f) => f.map((v) => v * decay)), m];
    const s = await r.step({ x, posCode: new Float32Array(Ct * 2), nChannels: Ct, featDim: 4, posDim: 2 });
    const sk = ref.flat().reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(s.logits[0] - sk) < 1e-4 * Math.max(1, Math.abs(sk)) && Math.abs(s.logits[1] - 2 * sk) < 2e-4 * Math.max(1, Math.abs(sk)), `t=${t}: logits ${Array.from(s.logits)} vs ${sk}`);
    ref = ref.slice(-keep);
    assert.equal(r.cache.length, ref.length);
    // [L=1, H=2, T, Dh=2]: head-major
    const want = [0, 1].flatMap((h) => ref.flatMap((f) => [f[2 * h], f[2 * h + 1]]));
    const got = Array.from(r.cache.k);
    assert.ok(got.every((v, i) => Math.abs(v - want[i]) < 1e-5), `t=${t}: cache keys ${got} vs ${want}`);
    assert.deepEqual(r.cache.positions, Array.from({ length: ref.length }, (_, i) => t + 1 - ref.length + i));
  }
}

test('external models: the worker returns only the new K/V frame, or the whole present when a model breaks present = past ⊕ new', async () => {
  const good = join(dir, 'toy.onnx');
  const bad = join(dir, 'toy-decay.onnx');
  writeFileSync(good, toyStep(1));
  writeFileSync(bad, toyStep(0.5));
  // default window policy (the sliding fast path, wrapping around its storage several times)
  let r = await loadModel(good, { cacheBudget: 4 });
  try {
    await checkToy(r, 1, 60, 4);
  } finally {
    await r.close();
  }
  // a custom policy that never trims: the cache's shared storage grows and is handed to the worker again
  r = await loadModel(good, { cacheBudget: 2, cachePolicy: () => {} });
  try {
    await checkToy(r, 1, 30, Infinity);
  } finally {
    await r.close();
  }
  // present ≠ past ⊕ new: the runner must adopt the whole present each step
  r = await loadModel(bad, { cacheBudget: 3 });
  try {
    await checkToy(r, 0.5, 12, 3);
  } finally {
    await r.close();
  }
});

test('steps queued while the worker is busy run as one batch and give exactly the single-step results', async () => {
  const path = join(dir, 'batch.onnx');
  writeStepOnnx(path, cfg, w);
  const n = 14;
  const frames = Array.from({ length: n }, (_, t) => randn(C * F, 300 + t));
  const speech = Array.from({ length: n }, (_, t) => (t * 5) % 9);
  const one = await loadModel(path, { cacheBudget: 5 });
  const many = await loadModel(path, { cacheBudget: 5 });
  try {
    const a = [];
    for (let t = 0; t < n; t++) a.push(await one.step({ x: frames[t], posCode: pos, nChannels: C, featDim: F, posDim: P }, { speech: speech[t] }));
    // all queued at once: the first runs alone, the rest wait and go to the worker together
    const b = await Promise.all(frames.map((x, t) => many.step({ x, posCode: pos, nChannels: C, featDim: F, posDim: P }, { speech: speech[t] })));
    assert.ok(a.every((s) => s.batched === 1));
    assert.ok(b.some((s) => s.batched > 1), `batch sizes ${b.map((s) => s.batched)}`);
    for (let t = 0; t < n; t++) {
      assert.equal(b[t].t, t);
      assert.equal(maxAbsDiff(a[t].logits, b[t].logits), 0, `logits t=${t}`);
      assert.equal(maxAbsDiff(a[t].embedding, b[t].embedding), 0, `embedding t=${t}`);
      assert.equal(a[t].surprise, b[t].surprise, `surprise t=${t}`);
    }
    // the cache ends in the same state: same frames, same positions, same window
    assert.equal(many.cache.length, 5);
    assert.deepEqual(many.cache.positions, one.cache.positions);
    assert.equal(maxAbsDiff(many.cache.k, one.cache.k), 0);
    assert.equal(maxAbsDiff(many.cache.v, one.cache.v), 0);
    // and single steps continue from there as if every step had been single
    const x = randn(C * F, 999);
    const sa = await one.step({ x, posCode: pos, nChannels: C, featDim: F, posDim: P });
    const sb = await many.step({ x, posCode: pos, nChannels: C, featDim: F, posDim: P });
    assert.equal(maxAbsDiff(sa.logits, sb.logits), 0);
  } finally {
    await one.close();
    await many.close();
  }
  // a custom cache policy must see every step, so nothing is batched
  const custom = await loadModel(path, { cachePolicy: (c) => c.window(3) });
  try {
    const b = await Promise.all(frames.map((x) => custom.step({ x, posCode: pos, nChannels: C, featDim: F, posDim: P })));
    assert.ok(b.every((s) => s.batched === 1));
    assert.equal(custom.cache.length, 3);
  } finally {
    await custom.close();
  }
});

test('the C API engine and onnxruntime-node give the same steps, single and batched', async () => {
  const path = join(dir, 'engines.onnx');
  writeStepOnnx(path, cfg, w);
  const direct = await loadModel(path, { cacheBudget: 4 });
  const binding = await loadModel(path, { cacheBudget: 4, engine: 'binding' });
  try {
    assert.equal(direct.info.engine, 'ort-c-api');
    assert.equal(binding.info.engine, 'onnxruntime-node');
    const frames = Array.from({ length: 9 }, (_, t) => randn(C * F, 500 + t));
    const run = async (r: ModelRunner) => [
      ...(await Promise.all(frames.slice(0, 5).map((x) => r.step({ x, posCode: pos, nChannels: C, featDim: F, posDim: P }, { speech: 2 })))),
      ...(await (async () => {
        const out = [];
        for (const x of frames.slice(5)) out.push(await r.step({ x, posCode: pos, nChannels: C, featDim: F, posDim: P }));
        return out;
      })()),
    ];
    const a = await run(direct);
    const b = await run(binding);
    for (let t = 0; t < frames.length; t++) {
      assert.equal(maxAbsDiff(a[t].logits, b[t].logits), 0, `logits t=${t}`);
      assert.equal(maxAbsDiff(a[t].embedding, b[t].embedding), 0, `embedding t=${t}`);
      assert.equal(a[t].surprise, b[t].surprise, `surprise t=${t}`);
    }
    assert.equal(maxAbsDiff(direct.cache.k, binding.cache.k), 0);
  } finally {
    await direct.close();
    await binding.close();
  }
});
