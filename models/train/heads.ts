/** Adapter heads fitted in closed form on the frozen trunk: shrinkage LDA on labels, or ridge to a teacher. */
import { logger } from '../../src/log.ts';
import { fitLda, solveSpd } from '../../src/decode/lda.ts';
import { type DiverConfig, adapterSlices, nClasses } from '../diver/config.ts';
import type { WeightTensors } from '../diver/tfmodel.ts';
import type { FrameSet } from '../data.ts';
import { Progress } from '../util/progress.ts';
import { recordingEmbeddings, recordingLogits } from './outputs.ts';

const log = logger('model-train');

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
 * Task adapters distilled from the teacher: per adapter, ridge regression of the
 * teacher's class-centred logits on the student's frozen embeddings, so the student
 * inherits the teacher's decision function where an LDA refit on few labelled trials
 * does not. Why and how: docs/models.md, "Training details". Returns new head arrays.
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
