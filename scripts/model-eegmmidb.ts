/**
 * EEGMMIDB S001 R04 (imagined left vs right fist), leave-one-trial-out
 * cross-validation, in one run:
 *   - baseline: log band power (mu 8–13 Hz, beta 13–30 Hz, Welch) per channel + shrinkage LDA;
 *   - foundation features: frozen DIVER teacher / student embeddings averaged over
 *     the trial + the same shrinkage LDA as the task adapter;
 *   - zero-shot: the model's own MI adapter (trained on simulated MI only).
 * Trial window: cue onset + 0.5 s to cue end (≈ 4.1 s). R04 is never used in training.
 *
 *   node --import tsx scripts/model-eegmmidb.ts [--out models/out]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eegmmidbRecording, toFrameSet } from '../models/data.ts';
import { loadCheckpoint } from '../models/checkpoint.ts';
import { toTensors } from '../models/diver/tfmodel.ts';
import { initBackend, recordingEmbeddings, recordingLogits, scoreTask } from '../models/train.ts';
import { fft } from '../src/model/features.ts';

const argv = process.argv.slice(2);
const outDir = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : 'models/out';
const SHRINK = 0.5;

function solve(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const M = Float64Array.from(A);
  const x = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]) > Math.abs(M[p * n + c])) p = r;
    if (p !== c) {
      for (let k = 0; k < n; k++) [M[c * n + k], M[p * n + k]] = [M[p * n + k], M[c * n + k]];
      [x[c], x[p]] = [x[p], x[c]];
    }
    for (let r = c + 1; r < n; r++) {
      const f = M[r * n + c] / M[c * n + c];
      if (f === 0) continue;
      for (let k = c; k < n; k++) M[r * n + k] -= f * M[c * n + k];
      x[r] -= f * x[c];
    }
  }
  for (let c = n - 1; c >= 0; c--) {
    let s = x[c];
    for (let k = c + 1; k < n; k++) s -= M[c * n + k] * x[k];
    x[c] = s / M[c * n + c];
  }
  return x;
}

/** Two-class LDA with covariance shrinkage toward a scaled identity; features z-scored on the training fold. */
function ldaPredict(train: number[][], y: number[], test: number[]): number {
  const d = test.length;
  const mu = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const r of train) for (let i = 0; i < d; i++) mu[i] += r[i] / train.length;
  for (const r of train) for (let i = 0; i < d; i++) sd[i] += (r[i] - mu[i]) ** 2 / train.length;
  for (let i = 0; i < d; i++) sd[i] = Math.sqrt(sd[i]) + 1e-9;
  const z = (r: number[]) => r.map((v, i) => (v - mu[i]) / sd[i]);
  const Z = train.map(z);
  const m = [new Float64Array(d), new Float64Array(d)];
  const n = [0, 0];
  Z.forEach((r, j) => {
    n[y[j]]++;
    for (let i = 0; i < d; i++) m[y[j]][i] += r[i];
  });
  for (const k of [0, 1]) for (let i = 0; i < d; i++) m[k][i] /= n[k];
  const S = new Float64Array(d * d);
  Z.forEach((r, j) => {
    const c = m[y[j]];
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) S[a * d + b] += ((r[a] - c[a]) * (r[b] - c[b])) / (Z.length - 2);
  });
  let tr = 0;
  for (let i = 0; i < d; i++) tr += S[i * d + i];
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) S[a * d + b] = (1 - SHRINK) * S[a * d + b] + (a === b ? (SHRINK * tr) / d : 0);
  const diff = new Float64Array(d).map((_, i) => m[1][i] - m[0][i]);
  const w = solve(S, diff, d);
  const zt = z(test);
  let s = 0;
  for (let i = 0; i < d; i++) s += w[i] * (zt[i] - 0.5 * (m[0][i] + m[1][i]));
  return s > 0 ? 1 : 0;
}

function loo(X: number[][], y: number[]): number {
  let ok = 0;
  for (let i = 0; i < X.length; i++) {
    const tr = X.filter((_, j) => j !== i);
    const ty = y.filter((_, j) => j !== i);
    if (ldaPredict(tr, ty, X[i]) === y[i]) ok++;
  }
  return ok / X.length;
}

await initBackend();
const rec = eegmmidbRecording('R04');
const tck = loadCheckpoint(join(outDir, 'teacher.json'));
const sck = loadCheckpoint(join(outDir, 'student.json'));
const fsT = toFrameSet(rec, tck.config);
const trials = fsT.trials;
const y = trials.map((t) => (t.cls === 1 ? 0 : 1)); // left 0, right 1
const hop = tck.config.hopMs / 1000;

// baseline: Welch log band power per channel (1 s Hann segments, 50 % overlap)
const C = rec.channels.length;
const sr = rec.srate;
const nseg = 256; // 1.6 s at 160 Hz, zero-padded FFT of 1 s windows
const segLen = Math.round(sr);
const bandFeat = trials.map((t) => {
  const a = Math.round(t.start * hop * sr);
  const b = Math.round(t.end * hop * sr);
  const f: number[] = [];
  for (let c = 0; c < C; c++) {
    const p = [0, 0];
    let segs = 0;
    for (let s0 = a; s0 + segLen <= b; s0 += segLen >> 1) {
      const re = new Float64Array(nseg);
      const im = new Float64Array(nseg);
      let mean = 0;
      for (let i = 0; i < segLen; i++) mean += rec.data[(s0 + i) * C + c] / segLen;
      for (let i = 0; i < segLen; i++) re[i] = (rec.data[(s0 + i) * C + c] - mean) * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / segLen));
      fft(re, im);
      for (let k = 1; k < nseg / 2; k++) {
        const fr = (k * sr) / nseg;
        const pw = re[k] ** 2 + im[k] ** 2;
        if (fr >= 8 && fr < 13) p[0] += pw;
        else if (fr >= 13 && fr < 30) p[1] += pw;
      }
      segs++;
    }
    f.push(Math.log(p[0] / segs + 1e-12), Math.log(p[1] / segs + 1e-12));
  }
  return f;
});

function embFeat(ck: ReturnType<typeof loadCheckpoint>): number[][] {
  const fs = toFrameSet(rec, ck.config);
  const E = recordingEmbeddings(ck.config, toTensors(ck.config, ck.weights), fs);
  const D = ck.config.dModel;
  return trials.map((t) => {
    const m = new Array(D).fill(0);
    for (let f = t.start; f < t.end; f++) for (let i = 0; i < D; i++) m[i] += E[f * D + i] / (t.end - t.start);
    return m;
  });
}

function zeroShot(ck: ReturnType<typeof loadCheckpoint>): number {
  const fs = toFrameSet(rec, ck.config);
  return scoreTask(ck.config, fs, recordingLogits(ck.config, toTensors(ck.config, ck.weights), fs)).accuracy;
}

const result = {
  dataset: 'EEGMMIDB S001R04 imagined left vs right fist',
  trials: trials.length,
  perClass: { left: y.filter((v) => v === 0).length, right: y.filter((v) => v === 1).length },
  cv: 'leave-one-trial-out, shrinkage LDA (γ = 0.5) on z-scored features',
  chance: Math.max(y.filter((v) => v === 0).length, y.filter((v) => v === 1).length) / y.length,
  baselineBandPowerLda: loo(bandFeat, y),
  teacherEmbeddingLda: loo(embFeat(tck), y),
  studentEmbeddingLda: loo(embFeat(sck), y),
  teacherZeroShotSimMiAdapter: zeroShot(tck),
  studentZeroShotSimMiAdapter: zeroShot(sck),
};
writeFileSync(join(outDir, 'eegmmidb-r04.json'), JSON.stringify(result, null, 1));
process.stdout.write(JSON.stringify(result, null, 1) + '\n');
