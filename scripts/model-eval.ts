/**
 * Held-out accuracy of teacher, student, int8 twin (tfjs) and the shipped
 * int8 ONNX run frame by frame through ModelRunner (worker, sliding KV cache of
 * the model's default or --cache frames), on simulated held-out recordings: `--recordings` per paradigm with
 * seeds seed·1000 + 500 + j (the first is the training pipeline's held-out
 * recording; none is used in training). Every model is scored on the same
 * trials. Prints one JSON object and writes OUT/accuracy.json.
 *   node --import tsx scripts/model-eval.ts [--out models/out] [--onnx models/diver-s.int8.onnx] [--seed 1] [--seconds 100] [--recordings 4] [--cache FRAMES[,FRAMES…]]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simRecording, toFrameSet, SECONDS_FACTOR, type FrameSet, type Task } from '../models/data.ts';
import { loadCheckpoint } from '../models/checkpoint.ts';
import { adapterSlices, featDim, type DiverConfig } from '../models/diver/config.ts';
import { toTensors } from '../models/diver/tfmodel.ts';
import { initBackend, recordingLogits, scoreTask } from '../models/train.ts';
import { loadModel } from '../src/model/index.ts';

const argv = process.argv.slice(2);
const opt = (k: string, d: string) => (argv.includes(`--${k}`) ? argv[argv.indexOf(`--${k}`) + 1] : d);
const out = opt('out', 'models/out');
const onnx = opt('onnx', join(out, 'diver-s.int8.onnx'));
const seed = Number(opt('seed', '1'));
const seconds = Number(opt('seconds', '100'));
const recordings = Number(opt('recordings', '4'));
/** KV-cache frames of the streaming runs, comma list (default: the model's own default). */
const cacheBudgets: (number | undefined)[] = argv.includes('--cache') ? opt('cache', '64').split(',').map(Number) : [undefined];
const tasks: Task[] = ['mi', 'p300', 'ssvep', 'speech'];

await initBackend();
const ref = loadCheckpoint(join(out, 'student.json')).config;
const sets: FrameSet[] = tasks.flatMap((t) =>
  Array.from({ length: recordings }, (_, j) => toFrameSet(simRecording(t, seed * 1000 + 500 + j, Math.round(seconds * SECONDS_FACTOR[t])), ref)),
);

/** Wilson 95 % interval of a proportion (k of n). */
function wilson(p: number, n: number): [number, number] {
  const z = 1.96;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [+(c - h).toFixed(3), +(c + h).toFixed(3)];
}

/** Rest-vs-task detection: balanced accuracy over labelled frames of p(class 0) < 0.5 (not for p300). */
function detection(cfg: DiverConfig, fs: FrameSet, lg: Float32Array): number | null {
  if (fs.task === 'p300') return null;
  const sl = adapterSlices(cfg).find((s) => s.name === fs.task)!;
  const K = adapterSlices(cfg).reduce((m, s) => Math.max(m, s.end), 0);
  const hit = [0, 0];
  const tot = [0, 0];
  for (let f = 0; f < fs.nFrames; f++) {
    if (fs.labels[f] < 0) continue;
    const o = f * K + sl.start;
    let m = -Infinity;
    for (let i = sl.start; i < sl.end; i++) m = Math.max(m, lg[f * K + i]);
    let z = 0;
    for (let i = sl.start; i < sl.end; i++) z += Math.exp(lg[f * K + i] - m);
    const p0 = Math.exp(lg[o] - m) / z;
    const truth = fs.labels[f] > 0 ? 1 : 0;
    tot[truth]++;
    if ((p0 < 0.5 ? 1 : 0) === truth) hit[truth]++;
  }
  return tot[0] && tot[1] ? +(0.5 * (hit[0] / tot[0] + hit[1] / tot[1])).toFixed(4) : null;
}

const res: Record<string, Record<string, unknown>> = {};
function score(name: string, cfg: DiverConfig, logits: (fs: FrameSet) => Float32Array) {
  const acc: Record<string, { hit: number; n: number; chance: number; det: number[] }> = {};
  for (const fs of sets) {
    const lg = logits(fs);
    const s = scoreTask(cfg, fs, lg);
    const e = (acc[fs.task!] ??= { hit: 0, n: 0, chance: s.chance, det: [] });
    e.hit += s.accuracy * s.trials; // p300: balanced accuracy, weighted by flashes
    e.n += s.trials;
    const d = detection(cfg, fs, lg);
    if (d !== null) e.det.push(d);
  }
  const r: Record<string, unknown> = {};
  for (const [task, e] of Object.entries(acc)) {
    const a = e.hit / e.n;
    r[task] = { accuracy: +a.toFixed(4), ci95: wilson(a, e.n), trials: e.n, chance: +e.chance.toFixed(3), detection: e.det.length ? +(e.det.reduce((x, y) => x + y, 0) / e.det.length).toFixed(4) : null };
  }
  res[name] = r;
}
for (const [name, file] of [['teacher', 'teacher.json'], ['student', 'student.json'], ['int8Twin', 'student-int8-twin.json']]) {
  const ck = loadCheckpoint(join(out, file));
  const W = toTensors(ck.config, ck.weights);
  score(name, ck.config, (fs) => recordingLogits(ck.config, W, fs));
}
// the serving path: int8 ONNX, one step per frame through the worker runner
for (const budget of cacheBudgets) {
  const runner = await loadModel(onnx, budget ? { cacheBudget: budget } : {});
  const onnxLogits = new Map<FrameSet, Float32Array>();
  const F = featDim(ref);
  for (const fs of sets) {
    runner.reset();
    const K = runner.labels.length;
    const lg = new Float32Array(fs.nFrames * K);
    // every frame queued at once, as a replay queues them: the runner steps through them in order
    const steps = Array.from({ length: fs.nFrames }, (_, f) => runner.step({ x: fs.frames.subarray(f * fs.C * F, (f + 1) * fs.C * F), posCode: fs.pos, nChannels: fs.C, featDim: F, posDim: ref.posDim }));
    (await Promise.all(steps)).forEach((r, f) => lg.set(r.logits, f * K));
    onnxLogits.set(fs, lg);
  }
  await runner.close();
  score(budget ? `int8OnnxStreaming@${budget}` : 'int8OnnxStreaming', ref, (fs) => onnxLogits.get(fs)!);
}
writeFileSync(join(out, 'accuracy.json'), JSON.stringify(res, null, 1));
process.stdout.write(JSON.stringify(res) + '\n');
