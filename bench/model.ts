/**
 * DIVER-S step benchmark. Prints one JSON object:
 *  - ONNX Runtime step latency at 64 and 256 channels with the KV cache at the
 *    model's serving window (its metadata `cacheFrames`): an in-thread
 *    session.run, the teacher's session.run, and the single-step round trip
 *    through ModelRunner's worker (what a live stream pays per frame);
 *  - throughput: frames queued in chunks of `--chunk` (as a replay or an
 *    evaluation queues them; the runner hands them to the worker as one
 *    batch) — the real-time factor is hop / time per frame here, and the
 *    single-step factor is reported beside it;
 *  - the same runner on onnxruntime-node's binding instead of the C API
 *    engine, as the baseline of the same run (speedupVsBinding);
 *  - feature extraction time per frame (64 ch × 160 Hz, 256 ch × 2 kHz);
 *  - params and FLOPs/step of student and teacher, and their ratio.
 * Uses models/diver-s.int8.onnx when present, else an untrained export of the
 * same shape (latency does not depend on the weights).
 *
 * Each measurement follows `--warmup` unmeasured steps: a streaming session
 * runs for hours, so the steady state is what counts (the first few hundred
 * steps are slower while caches, ORT's arena and the CPU clock settle).
 *
 *   node --import tsx bench/model.ts [--iters 2000] [--warmup 500] [--chunk 32] [--model path]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { studentConfig, teacherConfig, featDim, paramCount, stepMacs, type DiverConfig } from '../models/diver/config.ts';
import { initWeights } from '../models/diver/tfmodel.ts';
import { quantizeWeights, writeStepOnnx } from '../models/diver/export.ts';
import { loadModel } from '../src/model/index.ts';
import { FrameFeaturizer } from '../src/tokenize/index.ts';
import { readOnnxMetadata } from '../src/model/metadata.ts';
import { stepFetchNames } from '../src/model/protocol.ts';
import type { ChannelInfo } from '../src/types.ts';
import { scriptOptions } from '../src/cli/args.ts';

const opts = scriptOptions(process.argv.slice(2), {
  iters: { type: 'number', default: 2000, help: 'timed iterations' },
  warmup: { type: 'number', default: 500, help: 'untimed iterations first' },
  chunk: { type: 'number', default: 32, help: 'frames per chunk' },
  model: { type: 'string', default: 'models/diver-s.int8.onnx', help: 'the ONNX model' },
  cache: { type: 'number', help: "KV-cache frames (default: the model's own)" },
}, 'bench/model.ts');
const iters = opts.iters;
const warmup = opts.warmup;
const chunk = opts.chunk;

function stats(xs: number[]): { median: number; p99: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: +q(0.5).toFixed(4), p99: +q(0.99).toFixed(4), mean: +(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(4) };
}

function channels(C: number): ChannelInfo[] {
  return Array.from({ length: C }, (_, i) => {
    const th = (2 * Math.PI * i) / C;
    const ph = 0.3 + (1.2 * ((i * 7) % C)) / C;
    return { label: `E${i}`, type: 'EEG', pos: [0.09 * Math.cos(th) * Math.sin(ph), 0.09 * Math.sin(th) * Math.sin(ph), 0.09 * Math.cos(ph)] };
  });
}

const teacher = teacherConfig();
const dir = mkdtempSync(join(tmpdir(), 'neurox-bench-'));
const shipped = opts.model;
let modelPath = shipped;
let source = 'shipped';
if (!existsSync(shipped)) {
  const cfg = studentConfig();
  const w = initWeights(cfg, 1);
  modelPath = join(dir, 'diver-s.int8.onnx');
  writeStepOnnx(modelPath, cfg, w, { quant: quantizeWeights(cfg, w).quant });
  source = 'untrained export (same graph shape)';
}
const teacherPath = join(dir, 'teacher.onnx');
writeStepOnnx(teacherPath, teacher, initWeights(teacher, 1));

// serve with the model's own window (its training context), as loadModel does
const meta = JSON.parse(readOnnxMetadata(readFileSync(modelPath)).neurox ?? '{}') as { cacheFrames?: number; config?: DiverConfig };
// shapes, params and FLOPs of the model under test (its metadata), else the default student
const student: DiverConfig = meta.config ?? studentConfig();
const cacheFrames = opts.cache ?? Number(meta.cacheFrames ?? 64);

async function sessionBench(path: string, C: number, cfgF: number, cfgP: number, L: number, H: number, Dh: number) {
  const s = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'basic', executionMode: 'sequential', extra: { session: { disable_quant_qdq: '1' } } } as ort.InferenceSession.SessionOptions);
  const T = cacheFrames;
  const feeds: Record<string, ort.Tensor> = {
    x: new ort.Tensor('float32', new Float32Array(C * cfgF).map(() => Math.random() - 0.5), [1, C, cfgF]),
    pos_code: new ort.Tensor('float32', new Float32Array(C * cfgP).map(() => Math.random() - 0.5), [1, C, cfgP]),
    t: new ort.Tensor('int64', BigInt64Array.from([100n]), [1]),
    past_k: new ort.Tensor('float32', new Float32Array(L * H * T * Dh).map(() => Math.random() - 0.5), [L, H, T, Dh]),
    past_v: new ort.Tensor('float32', new Float32Array(L * H * T * Dh).map(() => Math.random() - 0.5), [L, H, T, Dh]),
    speech: new ort.Tensor('int64', BigInt64Array.from([0n]), [1]),
    text: new ort.Tensor('int64', BigInt64Array.from([0n]), [1]),
  };
  // the outputs the runner's worker fetches (new_k/new_v rather than the whole present)
  const fetch = stepFetchNames(s.outputNames);
  for (let i = 0; i < warmup; i++) await s.run(feeds, fetch);
  const ts: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await s.run(feeds, fetch);
    ts.push(performance.now() - t0);
  }
  await s.release();
  return stats(ts);
}

const out: Record<string, unknown> = {
  bench: 'model',
  model: modelPath,
  modelSource: source,
  device: 'cpu',
  intraOpThreads: 1,
  hopMs: student.hopMs,
  cacheFrames,
  chunk,
  iters,
  warmup,
  student: { params: paramCount(student), flopsPerStep64: 2 * stepMacs(student, 64, cacheFrames), flopsPerStep256: 2 * stepMacs(student, 256, cacheFrames) },
  teacher: { params: paramCount(teacher), flopsPerStep64: 2 * stepMacs(teacher, 64, cacheFrames), flopsPerStep256: 2 * stepMacs(teacher, 256, cacheFrames) },
};
(out as any).paramRatio = +(paramCount(teacher) / paramCount(student)).toFixed(2);
(out as any).flopRatio64 = +(stepMacs(teacher, 64, cacheFrames) / stepMacs(student, 64, cacheFrames)).toFixed(2);

const F = featDim(student);
const Dh = student.dModel / student.heads;
for (const C of [64, 256]) {
  const r: Record<string, unknown> = {};
  r.sessionRunMs = await sessionBench(modelPath, C, F, student.posDim, student.layers, student.heads, Dh);
  r.teacherSessionRunMs = await sessionBench(teacherPath, C, F, teacher.posDim, teacher.layers, teacher.heads, teacher.dModel / teacher.heads);
  const ch = channels(C);
  const fz = new FrameFeaturizer(ch, 160);
  const inputs = fz.push(new Float32Array(13 * C).map(() => Math.random() - 0.5));
  /** Single steps, then queued chunks, through one runner (engine 'auto' or the binding). */
  const runnerBench = async (engine: 'auto' | 'binding') => {
    const runner = await loadModel(modelPath, { cacheBudget: cacheFrames, engine });
    for (let i = 0; i < Math.max(warmup, cacheFrames + 30); i++) await runner.step(inputs);
    // one frame at a time, each awaited: the live path (the worker sleeps between frames)
    const ts: number[] = [];
    const overhead: number[] = [];
    for (let i = 0; i < iters; i++) {
      const s = await runner.step(inputs);
      ts.push(s.stepMs);
      overhead.push(s.stepMs - s.runMs);
    }
    // queued frames (replay, evaluation, catch-up): chunks of `chunk` steps issued together;
    // time per frame = the chunk's wall time / chunk, from the first call to the last result
    const perFrame: number[] = [];
    const batched: number[] = [];
    for (let k = 0; k < Math.max(20, Math.ceil(iters / chunk)); k++) {
      const t0 = performance.now();
      const res = await Promise.all(Array.from({ length: chunk }, () => runner.step(inputs)));
      perFrame.push((performance.now() - t0) / chunk);
      batched.push(Math.max(...res.map((x) => x.batched)));
    }
    const engineName = runner.info.engine;
    await runner.close();
    return {
      engine: engineName,
      workerStepMs: stats(ts),
      workerRunMs: stats(ts.map((t, i) => t - overhead[i])),
      // the round trip minus the run inside the worker: shared-memory hand-off, copies, KV cache update
      workerOverheadMs: stats(overhead),
      queuedFrameMs: stats(perFrame),
      queuedBatchFrames: stats(batched).median,
    };
  };
  const main = await runnerBench('auto');
  Object.assign(r, main);
  // baseline in the same run: the same runner on onnxruntime-node's binding
  const base = await runnerBench('binding');
  r.bindingEngine = { workerStepMs: base.workerStepMs, workerRunMs: base.workerRunMs, queuedFrameMs: base.queuedFrameMs };
  r.speedupVsBinding = {
    singleStep: +(base.workerStepMs.median / main.workerStepMs.median).toFixed(2),
    workerRun: +(base.workerRunMs.median / main.workerRunMs.median).toFixed(2),
    queued: +(base.queuedFrameMs.median / main.queuedFrameMs.median).toFixed(2),
  };
  // the real-time factor: signal time per frame over processing time per frame, for frames
  // queued as a replay queues them; then the single-step round trip, the worker's own
  // session.run and an in-thread session.run
  r.realTimeFactor = +(student.hopMs / (r.queuedFrameMs as any).median).toFixed(1);
  r.realTimeFactorSingleStep = +(student.hopMs / (r.workerStepMs as any).median).toFixed(1);
  r.realTimeFactorWorkerRun = +(student.hopMs / (r.workerRunMs as any).median).toFixed(1);
  r.realTimeFactorSessionRun = +(student.hopMs / (r.sessionRunMs as any).median).toFixed(1);
  // features
  for (const [sr, label] of [[160, 'features160HzMs'], [2000, 'features2kHzMs']] as const) {
    const f2 = new FrameFeaturizer(ch, sr);
    const n = Math.round((sr * student.hopMs) / 1000);
    const fr = new Float32Array(n * C).map(() => Math.random() - 0.5);
    const tf: number[] = [];
    for (let i = 0; i < 20; i++) f2.push(fr);
    for (let i = 0; i < Math.min(iters, 200); i++) {
      const t0 = performance.now();
      f2.push(fr);
      tf.push(performance.now() - t0);
    }
    r[label] = stats(tf);
  }
  out[`ch${C}`] = r;
}
out.meetsRtf200At64 = ((out.ch64 as any).realTimeFactor as number) >= 200;
rmSync(dir, { recursive: true, force: true });
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
