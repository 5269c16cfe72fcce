/**
 * Linear probe on DIVER-S frame features (src/tokenize/diver-features.ts): shrinkage
 * LDA (src/decode/lda.ts) on the trial-mean log band powers per channel,
 * trained on simulated recordings and scored on another seed. Shows whether
 * the information the adapters need is in the features at all.
 *   node --import tsx scripts/model-probe.ts [--seconds 100] [--recordings 3]
 */
import { scriptOptions } from '../src/cli/args.ts';
import { simRecording, toFrameSet, SECONDS_FACTOR, type Task, type FrameSet } from '../models/data.ts';
import { teacherConfig } from '../models/diver/config.ts';
import { fitLda, predictLda } from '../src/decode/lda.ts';
import { PATCH_LEN, FEAT_DIM } from '../src/tokenize/diver-features.ts';

const opts = scriptOptions(process.argv.slice(2), {
  seconds: { type: 'number', default: 100, help: 'seconds per simulated recording' },
  recordings: { type: 'number', default: 3, help: 'training recordings per paradigm' },
  tasks: { type: 'string', default: 'mi,p300,ssvep,speech', help: 'simulated paradigms (comma list)' },
}, 'scripts/model-probe.ts');
const seconds = opts.seconds;
const nrec = opts.recordings;
const tasks = opts.tasks.split(',').filter(Boolean) as Task[];
const cfg = teacherConfig();

function trialVec(fs: FrameSet, start: number, end: number, what: 'bands' | 'all'): Float64Array {
  const d = what === 'bands' ? FEAT_DIM - PATCH_LEN : FEAT_DIM;
  const off = what === 'bands' ? PATCH_LEN : 0;
  const v = new Float64Array(fs.C * d);
  for (let k = start; k < end; k++) for (let c = 0; c < fs.C; c++) for (let j = 0; j < d; j++) v[c * d + j] += fs.frames[(k * fs.C + c) * FEAT_DIM + off + j] / (end - start);
  return v;
}

const out: Record<string, unknown> = {};
for (const task of tasks) {
  const secs = Math.round(seconds * SECONDS_FACTOR[task]);
  const train = Array.from({ length: nrec }, (_, i) => toFrameSet(simRecording(task, 1000 + i, secs), cfg));
  const test = [toFrameSet(simRecording(task, 1500, secs), cfg)];
  // p300: the flash frame (patch + bands); others: trial mean of bands
  const what = task === 'p300' ? 'all' : 'bands';
  const rows = (sets: FrameSet[]) => sets.flatMap((fs) => fs.trials.map((tr) => ({ x: task === 'p300' ? trialVec(fs, tr.start, tr.start + 1, what) : trialVec(fs, tr.start, tr.end, what), y: String(tr.cls) })));
  const tr = rows(train);
  const te = rows(test);
  const m = fitLda(tr.map((r) => r.x), tr.map((r) => r.y));
  const hit: Record<string, [number, number]> = {};
  for (const r of te) {
    const p = predictLda(m, r.x);
    let b = 0;
    for (let i = 1; i < p.length; i++) if (p[i] > p[b]) b = i;
    const h = (hit[r.y] ??= [0, 0]);
    h[1]++;
    if (m.classes[b] === r.y) h[0]++;
  }
  const acc = Object.values(hit).reduce((s, h) => s + h[0], 0) / te.length;
  const bal = Object.values(hit).reduce((s, h) => s + h[0] / h[1], 0) / Object.keys(hit).length;
  out[task] = { trainTrials: tr.length, testTrials: te.length, acc: +acc.toFixed(3), balanced: +bal.toFixed(3), C: train[0].C, nFrames: train[0].nFrames, labelled: Array.from(train[0].labels).filter((l) => l >= 0).length };
  process.stderr.write(`${task}: ${JSON.stringify(out[task])}\n`);
}
process.stdout.write(JSON.stringify(out) + '\n');
