/**
 * Held-out accuracy of teacher, student, int8 twin (tfjs) and the shipped
 * int8 ONNX run frame by frame through ModelRunner (worker, sliding KV cache of
 * the model's default or --cache frames), on simulated held-out recordings:
 * `--recordings N` per paradigm from index `--from J`, with seeds
 * seed·1000 + 500 + j (j = 0 is the training pipeline's held-out recording;
 * none is used in training). Every model is scored on the same trials, so each
 * pair is also compared trial by trial (`paired`: discordant counts, exact
 * McNemar p, and the 95 % interval of the paired difference).
 *
 * Per-recording outcomes go to OUT/trials-J-N.json. `--merge a.json,b.json`
 * skips the models and summarises such files together, so a long evaluation
 * can run as shards in parallel processes (one tfjs thread each):
 *   node --import tsx scripts/model-eval.ts --from 0 --recordings 8 &
 *   node --import tsx scripts/model-eval.ts --from 8 --recordings 8; wait
 *   node --import tsx scripts/model-eval.ts --merge models/out/trials-0-8.json,models/out/trials-8-8.json
 * Prints one JSON object and writes OUT/accuracy.json.
 *   node --import tsx scripts/model-eval.ts [--out models/out] [--onnx models/diver-s.int8.onnx] [--seed 1] [--seconds 100] [--from 0] [--recordings 4] [--cache FRAMES[,FRAMES…]] [--merge files]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scriptOptions } from '../src/cli/args.ts';
import { simRecording, toFrameSet, SECONDS_FACTOR, type FrameSet, type Task } from '../models/data.ts';
import { loadCheckpoint } from '../models/checkpoint.ts';
import { adapterSlices, featDim, nClasses, type DiverConfig } from '../models/diver/config.ts';
import { toTensors } from '../models/diver/tfmodel.ts';
import { initBackend, recordingLogits, scoreOutcomes, trialOutcomes } from '../models/train/index.ts';
import { loadModel } from '../src/model/index.ts';
import { mcnemarP } from '../src/eval/metrics.ts';

const opts = scriptOptions(process.argv.slice(2), {
  out: { type: 'string', default: 'models/out', help: 'folder with the checkpoints; results go here' },
  onnx: { type: 'string', help: 'int8 ONNX to run (default OUT/diver-s.int8.onnx)' },
  seed: { type: 'number', default: 1, help: 'the training seed (held-out seeds derive from it)' },
  seconds: { type: 'number', default: 100, help: 'seconds per simulated recording' },
  from: { type: 'number', default: 0, help: 'first held-out recording index' },
  recordings: { type: 'number', default: 4, help: 'held-out recordings per paradigm' },
  merge: { type: 'string', default: '', help: 'summarise these trials-*.json files (comma list) instead of running' },
  cache: { type: 'string', help: "KV-cache frames of the streaming runs, comma list (default: the model's own)" },
}, 'scripts/model-eval.ts');
const out = opts.out;
const onnx = opts.onnx ?? join(out, 'diver-s.int8.onnx');
const seed = opts.seed;
const seconds = opts.seconds;
const from = opts.from;
const recordings = opts.recordings;
const merge = opts.merge;
/** KV-cache frames of the streaming runs (default: the model's own default). */
const cacheBudgets: (number | undefined)[] = opts.cache !== undefined ? opts.cache.split(',').map(Number) : [undefined];
const tasks: Task[] = ['mi', 'p300', 'ssvep', 'speech'];

/** One model on one recording. */
interface RecordingResult {
  task: Task;
  /** scoreTask's accuracy (p300: balanced over the recording's flashes). */
  accuracy: number;
  trials: number;
  chance: number;
  detection: number | null;
  correct: number[];
  cls: number[];
}
/** model name → recording name → result */
type Results = Record<string, Record<string, RecordingResult>>;

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
  const K = nClasses(cfg);
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

/** Run every model on recordings [from, from + recordings) of each paradigm. */
async function runModels(): Promise<Results> {
  await initBackend();
  const ref = loadCheckpoint(join(out, 'student.json')).config;
  const sets: FrameSet[] = tasks.flatMap((t) =>
    Array.from({ length: recordings }, (_, j) => toFrameSet(simRecording(t, seed * 1000 + 500 + from + j, Math.round(seconds * SECONDS_FACTOR[t])), ref)),
  );
  const results: Results = {};
  const score = (name: string, cfg: DiverConfig, logits: (fs: FrameSet) => Float32Array) => {
    const per: Record<string, RecordingResult> = (results[name] = {});
    for (const fs of sets) {
      const lg = logits(fs);
      const o = trialOutcomes(cfg, fs, lg);
      const s = scoreOutcomes(fs.task!, o);
      per[fs.name] = { task: fs.task!, accuracy: s.accuracy, trials: s.trials, chance: s.chance, detection: detection(cfg, fs, lg), correct: [...o.correct], cls: [...o.cls] };
    }
  };
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
  return results;
}

/** Accuracy per paradigm over all recordings (p300: per-recording balanced accuracy weighted by flashes). */
function accuracyTable(per: Record<string, RecordingResult>): Record<string, unknown> {
  const acc: Record<string, { hit: number; n: number; chance: number; det: number[]; recordings: number }> = {};
  for (const r of Object.values(per)) {
    const e = (acc[r.task] ??= { hit: 0, n: 0, chance: r.chance, det: [], recordings: 0 });
    e.hit += r.accuracy * r.trials;
    e.n += r.trials;
    e.recordings++;
    if (r.detection !== null) e.det.push(r.detection);
  }
  const t: Record<string, unknown> = {};
  for (const [task, e] of Object.entries(acc)) {
    const a = e.hit / e.n;
    t[task] = { accuracy: +a.toFixed(4), ci95: wilson(a, e.n), trials: e.n, recordings: e.recordings, chance: +e.chance.toFixed(3), detection: e.det.length ? +(e.det.reduce((x, y) => x + y, 0) / e.det.length).toFixed(4) : null };
  }
  return t;
}

/**
 * B − A on the same trials, per task. p300 differences are taken within
 * targets and within nontargets and averaged (as its balanced accuracy is);
 * the interval is the normal one of a paired difference of proportions.
 */
function paired(res: Results, a: string, b: string): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const task of tasks) {
    const groups = new Map<number, { n: number; aOnly: number; bOnly: number }>();
    for (const [rec, ra] of Object.entries(res[a])) {
      if (ra.task !== task) continue;
      const rb = res[b][rec];
      ra.correct.forEach((ca, i) => {
        const key = task === 'p300' ? ra.cls[i] : 0;
        const g = groups.get(key) ?? { n: 0, aOnly: 0, bOnly: 0 };
        g.n++;
        if (ca && !rb.correct[i]) g.aOnly++;
        if (!ca && rb.correct[i]) g.bOnly++;
        groups.set(key, g);
      });
    }
    if (!groups.size) continue;
    const G = groups.size;
    let diff = 0;
    let v = 0;
    let aOnly = 0;
    let bOnly = 0;
    for (const g of groups.values()) {
      const d = (g.bOnly - g.aOnly) / g.n;
      diff += d / G;
      v += ((g.aOnly + g.bOnly) / g.n - d * d) / g.n / (G * G);
      aOnly += g.aOnly;
      bOnly += g.bOnly;
    }
    const h = 1.96 * Math.sqrt(Math.max(0, v));
    r[task] = { diff: +diff.toFixed(4), ci95: [+(diff - h).toFixed(4), +(diff + h).toFixed(4)], [`${a}Only`]: aOnly, [`${b}Only`]: bOnly, mcnemarP: +mcnemarP(aOnly, bOnly).toPrecision(3) };
  }
  return r;
}

let results: Results;
if (merge) {
  results = {};
  for (const f of merge.split(',')) {
    const part = JSON.parse(readFileSync(f, 'utf8')) as Results;
    for (const [model, recs] of Object.entries(part)) {
      const into = (results[model] ??= {});
      for (const [rec, r] of Object.entries(recs)) {
        if (into[rec]) throw new Error(`--merge: recording ${rec} of ${model} appears in more than one file (${f})`);
        into[rec] = r;
      }
    }
  }
} else {
  results = await runModels();
  writeFileSync(join(out, `trials-${from}-${recordings}.json`), JSON.stringify(results));
}
const res: Record<string, unknown> = {};
for (const [model, per] of Object.entries(results)) res[model] = accuracyTable(per);
const streamName = Object.keys(results).find((k) => k.startsWith('int8OnnxStreaming'))!;
res.paired = {
  'student-teacher': paired(results, 'teacher', 'student'),
  'int8Twin-student': paired(results, 'student', 'int8Twin'),
  [`${streamName}-student`]: paired(results, 'student', streamName),
};
writeFileSync(join(out, 'accuracy.json'), JSON.stringify(res, null, 1));
process.stdout.write(JSON.stringify(res) + '\n');
