/**
 * EEGMMIDB S001 R04 (imagined left vs right fist), in one run, with the trial
 * definition and folds of `neurox evaluate` (src/eval/evaluate.ts):
 *   - baseline: src/eval's own run (band power + shrinkage LDA), 5-fold CV;
 *   - foundation features: frozen DIVER teacher / student embeddings per
 *     80 ms frame + a task adapter = shrinkage LDA (src/decode/lda.ts) fit on
 *     the training folds' frames; trial decision = summed log-probabilities
 *     over the frames whose end lies in [cue + 0.5 s, cue + 4 s], as
 *     src/eval does for the baseline;
 *   - zero-shot: the model's own MI adapter (trained on simulated MI only).
 * Folds: stratified, the i-th trial of each class (time order) → fold i mod 5.
 * R04 is never used in training.
 *
 *   node --import tsx scripts/model-eegmmidb.ts [--out models/out] [--cv 5]
 */
import { writeFileSync } from 'node:fs';
import { scriptOptions } from '../src/cli/args.ts';
import { join } from 'node:path';
import { eegmmidbRecording, toFrameSet, EEGMMIDB_DIR } from '../models/data.ts';
import { loadCheckpoint } from '../models/checkpoint.ts';
import { adapterSlices, nClasses } from '../models/diver/config.ts';
import { toTensors } from '../models/diver/tfmodel.ts';
import { initBackend, recordingEmbeddings, recordingLogits } from '../models/train/index.ts';
import { evaluate } from '../src/eval/evaluate.ts';
import { loadLabelled } from '../src/eval/data.ts';
import { fitLda, predictLda } from '../src/decode/lda.ts';

const opts = scriptOptions(process.argv.slice(2), {
  out: { type: 'string', default: 'models/out', help: 'folder with teacher.json / student.json; the result JSON goes here' },
  cv: { type: 'number', default: 5, help: 'cross-validation folds' },
}, 'scripts/model-eegmmidb.ts');
const outDir = opts.out;
const K = opts.cv;
const FROM = 0.5;
const TO = 4;
const file = new URL('S001R04.edf', EEGMMIDB_DIR).pathname;

await initBackend();
// baseline through src/eval itself (same code path as `neurox evaluate --paradigm mi --cv 5`)
const base = await evaluate({ paradigm: 'mi', train: [file], cv: K });
const lr = await loadLabelled(file, { paradigm: 'mi' });
const classes = [...new Set(lr.cues.map((c) => c.label))].filter((c) => c !== 'rest').sort();
const cues = lr.cues.filter((c) => classes.includes(c.label)).sort((a, b) => a.t - b.t);
const perClass = new Map<string, number>();
const fold = cues.map((c) => {
  const i = perClass.get(c.label) ?? 0;
  perClass.set(c.label, i + 1);
  return i % K;
});

const raw = eegmmidbRecording('R04', null);
function trialFrames(hopMs: number, nFrames: number, t: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < nFrames; k++) {
    const tEnd = ((k + 1) * hopMs) / 1000;
    if (tEnd >= t + FROM && tEnd <= t + TO) out.push(k);
  }
  return out;
}

/** CV of a per-frame shrinkage-LDA adapter on frame features [nFrames, D]. */
function cvAdapter(feat: Float32Array, D: number, hopMs: number, nFrames: number) {
  const frames = cues.map((c) => trialFrames(hopMs, nFrames, c.t));
  let correct = 0;
  const preds: string[] = [];
  for (let k = 0; k < K; k++) {
    const X: Float32Array[] = [];
    const y: string[] = [];
    cues.forEach((c, i) => {
      if (fold[i] === k) return;
      for (const f of frames[i]) (X.push(feat.subarray(f * D, (f + 1) * D)), y.push(c.label));
    });
    const m = fitLda(X, y);
    cues.forEach((c, i) => {
      if (fold[i] !== k) return;
      const acc = m.classes.map(() => 0);
      for (const f of frames[i]) predictLda(m, feat.subarray(f * D, (f + 1) * D)).forEach((p, j) => (acc[j] += Math.log(Math.max(p, 1e-300))));
      const pred = m.classes[acc.indexOf(Math.max(...acc))];
      preds[i] = pred;
      if (pred === c.label) correct++;
    });
  }
  return { accuracy: +(correct / cues.length).toFixed(4), correct, trials: cues.length };
}

const res: Record<string, unknown> = {
  data: 'EEGMMIDB S001R04 (imagined left/right fist), 64 ch, 160 Hz',
  trials: cues.length,
  perClass: Object.fromEntries(perClass),
  window: [FROM, TO],
  folds: K,
  baseline: { features: 'src/eval MI baseline (log band power + shrinkage LDA)', accuracy: +base.metrics.accuracy.toFixed(4), trials: base.trials.length },
  majority: +(Math.max(...perClass.values()) / cues.length).toFixed(4),
};
for (const name of ['teacher', 'student']) {
  let ck;
  try {
    ck = loadCheckpoint(join(outDir, `${name}.json`));
  } catch {
    continue;
  }
  const cfg = ck.config;
  const fs = toFrameSet(raw, cfg);
  const W = toTensors(cfg, ck.weights);
  const emb = recordingEmbeddings(cfg, W, fs);
  const lg = recordingLogits(cfg, W, fs);
  // zero-shot: the simulated-MI adapter's left/right logits summed over the trial
  const sl = adapterSlices(cfg).find((s) => s.name === 'mi')!;
  const nK = nClasses(cfg);
  let zs = 0;
  cues.forEach((c) => {
    let s = 0;
    for (const f of trialFrames(cfg.hopMs, fs.nFrames, c.t)) s += lg[f * nK + sl.start + 2] - lg[f * nK + sl.start + 1]; // right − left
    if ((s > 0 ? 'right' : 'left') === c.label) zs++;
  });
  res[name] = { embeddingAdapter: cvAdapter(emb, cfg.dModel, cfg.hopMs, fs.nFrames), zeroShotSimAdapter: +(zs / cues.length).toFixed(4), dModel: cfg.dModel };
}
writeFileSync(join(outDir, 'eegmmidb-r04.json'), JSON.stringify(res, null, 1));
process.stdout.write(JSON.stringify(res) + '\n');
