/**
 * Teacher training (masked-patch pretraining + supervised heads), student
 * distillation (logit KL + hidden matching) and evaluation, in TensorFlow.js.
 * Backend: tfjs-node-gpu when installed, else wasm (logged).
 */
import * as tf from '@tensorflow/tfjs';
import { logger } from '../src/log.ts';
import { type DiverConfig, FROZEN, adapterSlices, featDim, nClasses, weightShapes } from './diver/config.ts';
import { forward, rng, S, toTensors, type WeightArrays, type WeightTensors } from './diver/tfmodel.ts';
import type { FrameSet, Task } from './data.ts';
import { Progress } from './util/progress.ts';
import { fitLda, solveSpd } from '../src/decode/lda.ts';

const log = logger('model-train');

let backendName = '';
/** Pick the fastest available tfjs backend: tensorflow (tfjs-node-gpu) → wasm → cpu. */
export async function initBackend(): Promise<string> {
  if (backendName) return backendName;
  try {
    const mod = '@tensorflow/tfjs-node-gpu';
    await import(mod);
    if (await tf.setBackend('tensorflow')) backendName = 'tensorflow (tfjs-node-gpu)';
  } catch {
    /* not installed */
  }
  if (!backendName) {
    await import('@tensorflow/tfjs-backend-wasm');
    if (await tf.setBackend('wasm')) backendName = 'wasm';
    else {
      await tf.setBackend('cpu');
      backendName = 'cpu';
    }
  }
  await tf.ready();
  log.info({ backend: backendName }, 'tfjs backend');
  return backendName;
}

const stopGrad = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([]);
  return { value: x.clone(), gradFunc: (dy: tf.Tensor) => [tf.zerosLike(dy)] };
}) as any) as unknown as (x: tf.Tensor) => tf.Tensor;

export interface Batch {
  x: tf.Tensor; // [B,T,C,F]
  pos: tf.Tensor; // [B,C,P]
  labels: Int16Array; // [B*T]
  idle: Int8Array; // [B*T]
  task: Task | null;
  mask?: tf.Tensor; // [B,T,C]
}

/**
 * Sample B windows of T frames from one frame set (seeded). When the set has
 * more than `maxChannels` channels a random subset is used (cheaper steps, and
 * the model learns to work on any montage subset).
 */
export function sampleBatch(cfg: DiverConfig, fs: FrameSet, B: number, T: number, r: () => number, maskFrac = 0, maxChannels = 0): Batch {
  const F = featDim(cfg);
  const P = cfg.posDim;
  let chIdx = Array.from({ length: fs.C }, (_, i) => i);
  if (maxChannels > 0 && fs.C > maxChannels) {
    for (let i = chIdx.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [chIdx[i], chIdx[j]] = [chIdx[j], chIdx[i]];
    }
    chIdx = chIdx.slice(0, maxChannels);
  }
  const C = chIdx.length;
  const x = new Float32Array(B * T * C * F);
  const labels = new Int16Array(B * T);
  const idle = new Int8Array(B * T);
  const maxStart = Math.max(1, fs.nFrames - T);
  const posSub = new Float32Array(C * P);
  for (let c = 0; c < C; c++) posSub.set(fs.pos.subarray(chIdx[c] * P, (chIdx[c] + 1) * P), c * P);
  const mask = maskFrac > 0 ? new Float32Array(B * T * C) : undefined;
  for (let b = 0; b < B; b++) {
    const s = Math.floor(r() * maxStart);
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < C; c++) {
        const src = ((s + t) * fs.C + chIdx[c]) * F;
        x.set(fs.frames.subarray(src, src + F), ((b * T + t) * C + c) * F);
      }
    }
    labels.set(fs.labels.subarray(s, s + T), b * T);
    idle.set(fs.idle.subarray(s, s + T), b * T);
    if (mask) {
      // mask correlated channels together: the nearest neighbours (by position) of random seed channels
      const nMask = Math.max(1, Math.round(maskFrac * C));
      const m = new Uint8Array(C);
      let count = 0;
      while (count < nMask) {
        const seed = Math.floor(r() * C);
        const d = Array.from({ length: C }, (_, c) => {
          let s2 = 0;
          for (let k = 0; k < 3; k++) s2 += (posSub[c * P + k] - posSub[seed * P + k]) ** 2;
          return [s2 + (c === seed ? -1 : 0), c];
        }).sort((a, z) => a[0] - z[0]);
        for (const [, c] of d.slice(0, Math.ceil(nMask / 2))) {
          if (!m[c] && count < nMask) {
            m[c] = 1;
            count++;
          }
        }
      }
      for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) mask[(b * T + t) * C + c] = m[c];
    }
  }
  const pos = tf.tidy(() => tf.tensor(posSub, [1, C, P]).tile([B, 1, 1]));
  return {
    x: tf.tensor(x, [B, T, C, F]),
    pos,
    labels,
    idle,
    task: fs.task,
    mask: mask ? tf.tensor(mask, [B, T, C]) : undefined,
  };
}

export function disposeBatch(b: Batch): void {
  b.x.dispose();
  b.pos.dispose();
  b.mask?.dispose();
}

/** Masked cross-entropy over one adapter slice; labels −1 are ignored. Returns null when no frame is labelled. */
function sliceCE(logits: tf.Tensor, start: number, end: number, labels: ArrayLike<number>): tf.Scalar | null {
  const n = labels.length;
  const k = end - start;
  const oh = new Float32Array(n * k);
  const w = new Float32Array(n);
  let cnt = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] >= 0) {
      oh[i * k + labels[i]] = 1;
      w[i] = 1;
      cnt++;
    }
  }
  if (!cnt) return null;
  const lg = logits.reshape([n, -1]).slice([0, start], [n, k]);
  const lp = tf.logSoftmax(lg, -1);
  return tf.neg(lp.mul(tf.tensor2d(oh, [n, k])).sum(-1).mul(tf.tensor1d(w)).sum().div(cnt)) as tf.Scalar;
}

function reconLoss(cfg: DiverConfig, x: tf.Tensor, recon: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  const P = cfg.patchLen;
  const nb = cfg.nBands;
  const shp = S(x);
  const patch = x.slice([0, 0, 0, 0], [shp[0], shp[1], shp[2], P]);
  const diff = tf.concat([tf.zerosLike(patch.slice([0, 0, 0, 0], [shp[0], shp[1], shp[2], 1])), patch.slice([0, 0, 0, 1], [shp[0], shp[1], shp[2], P - 1]).sub(patch.slice([0, 0, 0, 0], [shp[0], shp[1], shp[2], P - 1]))], -1);
  const bands = x.slice([0, 0, 0, P], [shp[0], shp[1], shp[2], nb]);
  const target = tf.concat([patch, diff, bands], -1);
  // weight toward high frequencies: first differences ×2, band weights rising with frequency
  const wv = new Float32Array(2 * P + nb);
  for (let i = 0; i < P; i++) wv[i] = 1;
  for (let i = 0; i < P; i++) wv[P + i] = 2;
  for (let b = 0; b < nb; b++) wv[2 * P + b] = 0.5 + (1.5 * b) / (nb - 1);
  const wsum = wv.reduce((a, b) => a + b, 0);
  const err = recon.sub(target).square().mul(tf.tensor1d(wv)).sum(-1).div(wsum); // [B,T,C]
  return err.mul(mask).sum().div(mask.sum().add(1e-6)) as tf.Scalar;
}

export interface StepLosses {
  total: number;
  [k: string]: number;
}

export interface TrainPhase {
  name: string;
  steps: number;
  lr: number;
  /** Loss weights. */
  w: { recon?: number; pred?: number; ce?: number; kl?: number; hidden?: number };
  maskFrac?: number;
}

export interface TrainOptions {
  seed: number;
  batch: number;
  seqFrames: number;
  /** Random channel subset per batch when a recording has more (0 = all). */
  maxChannels?: number;
  progress?: boolean;
  /** Called every `every` steps with the step index (for checkpoints). */
  onCheckpoint?: (step: number) => void;
  checkpointEvery?: number;
  teacher?: { cfg: DiverConfig; W: WeightTensors };
  /** Relative sampling weight of each task's recordings (default TASK_WEIGHTS; unlabelled recordings 1). */
  taskWeights?: Partial<Record<Task, number>>;
}

/** Default sampling weights per task: speech twice as often as the others. */
export const TASK_WEIGHTS: Partial<Record<Task, number>> = { speech: 2 };

/**
 * Run phases of optimisation on `vars` (Adam, cosine decay per phase). Returns
 * the loss history [{step, ...losses}].
 */
export function trainPhases(
  cfg: DiverConfig,
  vars: Record<string, tf.Variable>,
  sets: FrameSet[],
  phases: TrainPhase[],
  opts: TrainOptions,
  extraVars: Record<string, tf.Variable> = {},
): { step: number; phase: string; losses: StepLosses }[] {
  const r = rng(opts.seed);
  const history: { step: number; phase: string; losses: StepLosses }[] = [];
  const slices = adapterSlices(cfg);
  const idleSlice = slices.find((s) => s.name === 'idle')!;
  let global = 0;
  // recordings drawn in proportion to their task's weight (SEEG speech has ten word classes
  // and ≈ 0.2 words/s, so its batches carry fewer labelled frames per class)
  const weights = sets.map((s) => (s.task ? opts.taskWeights?.[s.task] ?? TASK_WEIGHTS[s.task] ?? 1 : 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const pick = (u: number): FrameSet => {
    let acc = 0;
    for (let i = 0; i < sets.length; i++) {
      acc += weights[i] / total;
      if (u < acc) return sets[i];
    }
    return sets[sets.length - 1];
  };
  for (const ph of phases) {
    const opt = tf.train.adam(ph.lr);
    const bar = new Progress(`${cfg.name} ${ph.name}`, ph.steps, opts.progress !== false);
    const varList = [...Object.entries(vars).filter(([k]) => !FROZEN.has(k)).map(([, v]) => v), ...Object.values(extraVars)];
    for (let s = 0; s < ph.steps; s++) {
      (opt as unknown as { learningRate: number }).learningRate = ph.lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * s) / ph.steps)));
      const fs = pick(r());
      const batch = sampleBatch(cfg, fs, opts.batch, opts.seqFrames, r, ph.w.recon ? ph.maskFrac ?? 0.3 : 0, opts.maxChannels ?? 0);
      const parts: Record<string, tf.Scalar> = {};
      const lossVal = opt.minimize(
        () => {
          const out = forward(cfg, vars, { x: batch.x, pos: batch.pos, chanMask: batch.mask, wantRecon: !!ph.w.recon });
          let total: tf.Scalar = tf.scalar(0);
          const add = (name: string, wgt: number | undefined, v: tf.Scalar | null) => {
            if (!wgt || !v) return;
            parts[name] = tf.keep(v.clone());
            total = total.add(v.mul(wgt)) as tf.Scalar;
          };
          if (ph.w.recon && out.recon && batch.mask) add('recon', ph.w.recon, reconLoss(cfg, batch.x, out.recon, batch.mask));
          if (ph.w.pred) {
            const T = opts.seqFrames;
            const err = out.pred.sub(stopGrad(out.z)).square().mean(-1); // [B,T]
            add('pred', ph.w.pred, err.slice([0, 1], [opts.batch, T - 1]).mean() as tf.Scalar);
          }
          if (ph.w.ce && batch.task) {
            const sl = slices.find((x) => x.name === batch.task)!;
            add('ce', ph.w.ce, sliceCE(out.logits, sl.start, sl.end, batch.labels));
            add('ceIdle', ph.w.ce * 0.5, sliceCE(out.logits, idleSlice.start, idleSlice.end, batch.idle));
          }
          if (opts.teacher && (ph.w.kl || ph.w.hidden)) {
            const tout = forward(opts.teacher.cfg, opts.teacher.W, { x: batch.x, pos: batch.pos });
            if (ph.w.kl) {
              const tau = 2;
              const use = batch.task ? [slices.find((x) => x.name === batch.task)!, idleSlice] : [idleSlice];
              let kl: tf.Tensor = tf.scalar(0);
              const n = opts.batch * opts.seqFrames;
              for (const sl of use) {
                const k = sl.end - sl.start;
                const tl = tout.logits.reshape([n, -1]).slice([0, sl.start], [n, k]).div(tau);
                const sl2 = out.logits.reshape([n, -1]).slice([0, sl.start], [n, k]).div(tau);
                const pt = tf.softmax(tl, -1);
                kl = kl.add(pt.mul(tf.logSoftmax(tl, -1).sub(tf.logSoftmax(sl2, -1))).sum(-1).mean().mul(tau * tau));
              }
              add('kl', ph.w.kl, kl as tf.Scalar);
            }
            if (ph.w.hidden && extraVars['distill.proj']) {
              const proj = tf.matMul(out.emb.reshape([-1, cfg.dModel]), extraVars['distill.proj'] as tf.Tensor2D);
              add('hidden', ph.w.hidden, proj.sub(tout.emb.reshape([-1, opts.teacher.cfg.dModel])).square().mean() as tf.Scalar);
            }
          }
          return total;
        },
        true,
        varList,
      );
      const losses: StepLosses = { total: lossVal ? lossVal.dataSync()[0] : NaN };
      for (const [k, v] of Object.entries(parts)) {
        losses[k] = v.dataSync()[0];
        v.dispose();
      }
      lossVal?.dispose();
      disposeBatch(batch);
      global++;
      history.push({ step: global, phase: ph.name, losses });
      bar.tick(s + 1, Object.entries(losses).map(([k, v]) => `${k}=${v.toFixed(3)}`).join(' '));
      if (opts.onCheckpoint && opts.checkpointEvery && global % opts.checkpointEvery === 0) opts.onCheckpoint(global);
    }
    bar.done();
    opt.dispose();
  }
  return history;
}

/**
 * Input standardisation from training data: per-feature mean / inverse std of
 * the frame features (over frames and channels) and of the skip features
 * (mean over channels of pos ⊗ x, after the first standardisation). Without
 * it the class-relevant directions are tiny next to the common mode, and the
 * heads only learned the class prior. Stds have a floor so features that are
 * constant in training (bands above a stream's Nyquist) stay bounded.
 */
export function inputStats(cfg: DiverConfig, sets: FrameSet[], every = 4): WeightArrays {
  const F = featDim(cfg);
  const P = cfg.posDim;
  const s1 = new Float64Array(F);
  const s2 = new Float64Array(F);
  let n = 0;
  for (const fs of sets) {
    for (let k = 0; k < fs.nFrames; k += every) {
      for (let c = 0; c < fs.C; c++) {
        const o = (k * fs.C + c) * F;
        for (let j = 0; j < F; j++) {
          const v = fs.frames[o + j];
          s1[j] += v;
          s2[j] += v * v;
        }
      }
      n += fs.C;
    }
  }
  const mu = new Float32Array(F);
  const isd = new Float32Array(F);
  for (let j = 0; j < F; j++) {
    mu[j] = s1[j] / n;
    isd[j] = 1 / Math.max(0.25, Math.sqrt(Math.max(0, s2[j] / n - mu[j] * mu[j])));
  }
  const q1 = new Float64Array(P * F);
  const q2 = new Float64Array(P * F);
  const v = new Float64Array(P * F);
  let m = 0;
  for (const fs of sets) {
    for (let k = 0; k < fs.nFrames; k += every) {
      v.fill(0);
      for (let c = 0; c < fs.C; c++) {
        const o = (k * fs.C + c) * F;
        for (let p = 0; p < P; p++) {
          const a = fs.pos[c * P + p];
          if (!a) continue;
          for (let j = 0; j < F; j++) v[p * F + j] += (a * (fs.frames[o + j] - mu[j]) * isd[j]) / fs.C;
        }
      }
      for (let i = 0; i < P * F; i++) {
        q1[i] += v[i];
        q2[i] += v[i] * v[i];
      }
      m++;
    }
  }
  const smu = new Float32Array(P * F);
  const ssd = new Float64Array(P * F);
  for (let i = 0; i < P * F; i++) {
    smu[i] = q1[i] / m;
    ssd[i] = Math.sqrt(Math.max(0, q2[i] / m - smu[i] * smu[i]));
  }
  const sorted = Array.from(ssd).filter((x) => x > 0).sort((a, b) => a - b);
  const floor = Math.max(1e-3, 0.1 * (sorted[sorted.length >> 1] ?? 1));
  const sisd = new Float32Array(P * F);
  for (let i = 0; i < P * F; i++) sisd[i] = 1 / Math.max(floor, ssd[i]);
  return { 'norm.mu': mu, 'norm.isd': isd, 'skip.mu': smu, 'skip.isd': sisd };
}

export function makeVariables(cfg: DiverConfig, w: WeightArrays): Record<string, tf.Variable> {
  return toTensors(cfg, w, true) as Record<string, tf.Variable>;
}

export async function variablesToArrays(cfg: DiverConfig, vars: Record<string, tf.Tensor>): Promise<WeightArrays> {
  const out: WeightArrays = {};
  for (const k of Object.keys(weightShapes(cfg))) out[k] = (await vars[k].data()) as Float32Array;
  return out;
}

// ---------------------------------------------------------------- evaluation

/**
 * One model output per frame of a whole recording ([nFrames, width]), streamed in
 * windows of `win` frames whose first `warm` frames (the previous window's end)
 * are context only. With `everyWindow` = n only every n-th window is run; the
 * frames of the others stay NaN.
 */
function recordingOutputs(cfg: DiverConfig, W: WeightTensors, fs: FrameSet, which: 'logits' | 'emb', width: number, win: number, warm: number, everyWindow = 1): Float32Array {
  const F = featDim(cfg);
  const C = fs.C;
  const out = new Float32Array(fs.nFrames * width);
  if (everyWindow > 1) out.fill(NaN);
  let start = 0;
  for (let w = 0; start < fs.nFrames; w++) {
    const s0 = Math.max(0, start - warm);
    const e = Math.min(fs.nFrames, start + win - (start - s0));
    if (w % everyWindow === 0) {
      tf.tidy(() => {
        const x = tf.tensor(fs.frames.subarray(s0 * C * F, e * C * F), [1, e - s0, C, F]);
        const res = forward(cfg, W, { x, pos: tf.tensor(fs.pos, [1, C, cfg.posDim]) });
        out.set(res[which].dataSync().subarray((start - s0) * width), start * width);
      });
    }
    start = e;
  }
  return out;
}

/** Per-frame logits of a whole recording. */
export function recordingLogits(cfg: DiverConfig, W: WeightTensors, fs: FrameSet, win = 48, warm = 16, everyWindow = 1): Float32Array {
  return recordingOutputs(cfg, W, fs, 'logits', nClasses(cfg), win, warm, everyWindow);
}

/** Per-frame embeddings [nFrames, D] of a whole recording (same streaming windows as recordingLogits). */
export function recordingEmbeddings(cfg: DiverConfig, W: WeightTensors, fs: FrameSet, win = 48, warm = 16, everyWindow = 1): Float32Array {
  return recordingOutputs(cfg, W, fs, 'emb', cfg.dModel, win, warm, everyWindow);
}

/**
 * Task adapters fit in closed form: for each paradigm, shrinkage LDA
 * (src/decode/lda.ts, Ledoit–Wolf, equal priors) on the frozen embeddings of
 * the labelled training frames; the discriminant scores are linear in the
 * embedding, so they become that adapter's columns of head.w / head.b. The
 * idle adapter uses every task frame with an idle label. Adapters without
 * training frames keep their current weights. Returns new head arrays.
 */
export function fitAdapters(cfg: DiverConfig, W: WeightTensors, sets: FrameSet[], every = 2): { 'head.w': Float32Array; 'head.b': Float32Array } {
  const D = cfg.dModel;
  const K = nClasses(cfg);
  const headW = Float32Array.from(W['head.w'].dataSync() as Float32Array);
  const headB = Float32Array.from(W['head.b'].dataSync() as Float32Array);
  const embs = new Map<FrameSet, Float32Array>();
  for (const fs of sets) if (fs.task) embs.set(fs, recordingEmbeddings(cfg, W, fs));
  for (const sl of adapterSlices(cfg)) {
    const X: Float32Array[] = [];
    const y: string[] = [];
    for (const [fs, e] of embs) {
      const lab: ArrayLike<number> | null = sl.name === 'idle' ? fs.idle : fs.task === sl.name ? fs.labels : null;
      if (!lab) continue;
      for (let k = 0; k < fs.nFrames; k++) {
        // every frame of sparse labels (p300 flashes), every `every`-th of dense ones
        if (lab[k] < 0 || (sl.name !== 'p300' && k % every)) continue;
        X.push(e.subarray(k * D, (k + 1) * D));
        y.push(String(lab[k]));
      }
    }
    if (new Set(y).size < 2) continue;
    const m = fitLda(X, y);
    for (let i = sl.start; i < sl.end; i++) {
      for (let j = 0; j < D; j++) headW[j * K + i] = 0;
      headB[i] = -10; // classes without training frames
    }
    m.classes.forEach((c, ci) => {
      const col = sl.start + Number(c);
      let b = m.bias[ci];
      for (let j = 0; j < D; j++) {
        const wj = m.weights[ci][j] / m.scale[j];
        headW[j * K + col] = wj;
        b -= wj * m.mean[j];
      }
      headB[col] = b;
    });
    log.info({ adapter: sl.name, frames: X.length, classes: m.classes.length, shrinkage: +m.shrinkage.toFixed(3) }, 'adapter fit (LDA)');
  }
  return { 'head.w': headW, 'head.b': headB };
}

/**
 * Task adapters distilled from the teacher: per adapter, ridge regression of
 * the teacher's logits on the student's frozen embeddings, over the frames of
 * every `windows`-th 32-frame window (after the first `warm` frames) of that
 * paradigm's recordings, labelled or not; the idle adapter uses all
 * recordings. Skipping windows keeps the teacher's passes over long SEEG
 * recordings affordable. Logits are centred over the adapter's classes
 * first, since softmax ignores a common offset. The student so inherits the
 * teacher's decision function, threshold included, where an LDA refit on the
 * few labelled trials does not: three P300 training recordings hold ≈ 110
 * targets for a 64-dim embedding. Ridge strength is `ridge` × the mean
 * embedding variance. Adapters with fewer than 2·D frames keep their weights.
 */
export function fitAdaptersToTeacher(
  cfg: DiverConfig,
  W: WeightTensors,
  teacher: { cfg: DiverConfig; W: WeightTensors },
  sets: FrameSet[],
  opts: { windows?: number; warm?: number; ridge?: number; progress?: boolean } = {},
): { 'head.w': Float32Array; 'head.b': Float32Array } {
  const windows = opts.windows ?? 3;
  const warm = opts.warm ?? 16;
  const ridge = opts.ridge ?? 1e-3;
  const D = cfg.dModel;
  const K = nClasses(cfg);
  if (JSON.stringify(adapterSlices(cfg)) !== JSON.stringify(adapterSlices(teacher.cfg))) throw new Error('fitAdaptersToTeacher: the teacher and the student have different adapters');
  const headW = Float32Array.from(W['head.w'].dataSync() as Float32Array);
  const headB = Float32Array.from(W['head.b'].dataSync() as Float32Array);
  const bar = new Progress(`${cfg.name} adapters ← teacher`, sets.length, opts.progress !== false);
  const outs = sets.map((fs, i) => {
    const o = { fs, emb: recordingEmbeddings(cfg, W, fs, 48, 16, windows), lg: recordingLogits(teacher.cfg, teacher.W, fs, 48, 16, windows) };
    bar.tick(i + 1);
    return o;
  });
  bar.done();
  for (const sl of adapterSlices(cfg)) {
    const k = sl.end - sl.start;
    const use = outs.filter((o) => sl.name === 'idle' || o.fs.task === sl.name);
    const frames = (o: (typeof outs)[number], fn: (e: Float32Array, y: Float64Array) => void) => {
      const y = new Float64Array(k);
      for (let f = warm; f < o.fs.nFrames; f++) {
        if (Number.isNaN(o.emb[f * D])) continue; // a skipped window
        let m = 0;
        for (let c = 0; c < k; c++) m += o.lg[f * K + sl.start + c] / k;
        for (let c = 0; c < k; c++) y[c] = o.lg[f * K + sl.start + c] - m;
        fn(o.emb.subarray(f * D, (f + 1) * D), y);
      }
    };
    // two passes: means, then centred normal equations (XᵀX + λI) w = Xᵀy
    let n = 0;
    const mx = new Float64Array(D);
    const my = new Float64Array(k);
    for (const o of use) frames(o, (e, y) => {
      n++;
      for (let i = 0; i < D; i++) mx[i] += e[i];
      for (let c = 0; c < k; c++) my[c] += y[c];
    });
    if (n < 2 * D) continue; // too few frames for this adapter: keep its weights
    mx.forEach((v, i) => (mx[i] = v / n));
    my.forEach((v, c) => (my[c] = v / n));
    const G = new Float64Array(D * D);
    const B = new Float64Array(D * k);
    const xc = new Float64Array(D);
    for (const o of use) frames(o, (e, y) => {
      for (let i = 0; i < D; i++) xc[i] = e[i] - mx[i];
      for (let i = 0; i < D; i++) {
        for (let j = i; j < D; j++) G[i * D + j] += xc[i] * xc[j];
        for (let c = 0; c < k; c++) B[i * k + c] += xc[i] * (y[c] - my[c]);
      }
    });
    let tr = 0;
    for (let i = 0; i < D; i++) tr += G[i * D + i];
    for (let i = 0; i < D; i++) {
      G[i * D + i] += (ridge * tr) / D;
      for (let j = 0; j < i; j++) G[i * D + j] = G[j * D + i];
    }
    for (let c = 0; c < k; c++) {
      const w = solveSpd(G, D, Float64Array.from({ length: D }, (_, i) => B[i * k + c]));
      let b = my[c];
      for (let i = 0; i < D; i++) {
        headW[i * K + sl.start + c] = w[i];
        b -= w[i] * mx[i];
      }
      headB[sl.start + c] = b;
    }
    log.info({ adapter: sl.name, frames: n, recordings: use.length }, 'adapter fit to the teacher (ridge)');
  }
  return { 'head.w': headW, 'head.b': headB };
}

export interface TaskScore {
  task: Task;
  /** Trial accuracy (mi/ssvep/speech: mean log-prob over the cue, task classes only) or balanced accuracy (p300 flashes). */
  accuracy: number;
  trials: number;
  chance: number;
}

/**
 * Per-trial outcome (1 = correct) and the trial's class: mi/ssvep/speech score
 * a cue by the summed log-probability of its frames over the task classes;
 * p300 scores each flash by target vs nontarget logit at its P300 frame.
 */
export function trialOutcomes(cfg: DiverConfig, fs: FrameSet, logits: Float32Array): { correct: Uint8Array; cls: Int16Array } {
  const task = fs.task as Task;
  const sl = adapterSlices(cfg).find((s) => s.name === task)!;
  const K = nClasses(cfg);
  const k = sl.end - sl.start;
  const correct = new Uint8Array(fs.trials.length);
  const cls = Int16Array.from(fs.trials, (t) => t.cls);
  fs.trials.forEach((tr, ti) => {
    if (task === 'p300') {
      const o = tr.start * K + sl.start;
      correct[ti] = (logits[o + 1] > logits[o] ? 1 : 0) === tr.cls ? 1 : 0;
      return;
    }
    const score = new Float64Array(k);
    for (let f = tr.start; f < tr.end; f++) {
      const o = f * K + sl.start;
      let m = -Infinity;
      for (let i = 1; i < k; i++) m = Math.max(m, logits[o + i]);
      let z = 0;
      for (let i = 1; i < k; i++) z += Math.exp(logits[o + i] - m);
      for (let i = 1; i < k; i++) score[i] += logits[o + i] - m - Math.log(z);
    }
    let best = 1;
    for (let i = 2; i < k; i++) if (score[i] > score[best]) best = i;
    correct[ti] = best === tr.cls ? 1 : 0;
  });
  return { correct, cls };
}

/** Trial accuracy of one recording; p300 uses balanced accuracy over targets and nontargets. */
export function scoreTask(cfg: DiverConfig, fs: FrameSet, logits: Float32Array): TaskScore {
  return scoreOutcomes(fs.task as Task, trialOutcomes(cfg, fs, logits));
}

/** scoreTask from trialOutcomes' per-trial outcomes. */
export function scoreOutcomes(task: Task, { correct, cls }: { correct: Uint8Array; cls: Int16Array }): TaskScore {
  if (task === 'p300') {
    const hit = [0, 0];
    const tot = [0, 0];
    correct.forEach((ok, i) => {
      tot[cls[i]]++;
      hit[cls[i]] += ok;
    });
    const acc = 0.5 * ((tot[0] ? hit[0] / tot[0] : 0) + (tot[1] ? hit[1] / tot[1] : 0));
    return { task, accuracy: acc, trials: correct.length, chance: 0.5 };
  }
  const n = correct.reduce((a, b) => a + b, 0);
  const present = new Set(cls);
  return { task, accuracy: correct.length ? n / correct.length : NaN, trials: correct.length, chance: 1 / Math.max(1, present.size) };
}

export function evaluate(cfg: DiverConfig, W: WeightTensors, sets: FrameSet[]): Record<string, TaskScore> {
  const byTask: Record<string, { hit: number; n: number; chance: number }> = {};
  for (const fs of sets) {
    if (!fs.task) continue;
    const s = scoreTask(cfg, fs, recordingLogits(cfg, W, fs));
    const e = (byTask[fs.task] ??= { hit: 0, n: 0, chance: s.chance });
    e.hit += s.accuracy * s.trials;
    e.n += s.trials;
  }
  const out: Record<string, TaskScore> = {};
  for (const [t, e] of Object.entries(byTask)) out[t] = { task: t as Task, accuracy: e.n ? e.hit / e.n : NaN, trials: e.n, chance: e.chance };
  return out;
}
