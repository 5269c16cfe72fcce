/** The training loop: phases of Adam with cosine decay over weighted recordings, and the variables it trains. */
import * as tf from '@tensorflow/tfjs';
import { type DiverConfig, FROZEN, adapterSlices, weightShapes } from '../diver/config.ts';
import { forward, rng, toTensors, type WeightArrays, type WeightTensors } from '../diver/tfmodel.ts';
import type { FrameSet, Task } from '../data.ts';
import { Progress } from '../util/progress.ts';
import { disposeBatch, sampleBatch } from './batch.ts';
import { distillKL, hiddenLoss, predLoss, reconLoss, sliceCE } from './losses.ts';

/** The losses of one step, by name, and their weighted sum. */
export interface StepLosses {
  total: number;
  [k: string]: number;
}

/** One phase of training: steps, learning rate, loss weights and the mask fraction of reconstruction. */
export interface TrainPhase {
  name: string;
  steps: number;
  lr: number;
  /** Loss weights. */
  w: { recon?: number; pred?: number; ce?: number; kl?: number; hidden?: number };
  maskFrac?: number;
}

/** Batch shape, seed, checkpoints and an optional teacher (distillation) for trainPhases. */
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
          if (ph.w.pred) add('pred', ph.w.pred, predLoss(out.pred, out.z, opts.batch, opts.seqFrames));
          if (ph.w.ce && batch.task) {
            const sl = slices.find((x) => x.name === batch.task)!;
            add('ce', ph.w.ce, sliceCE(out.logits, sl.start, sl.end, batch.labels));
            add('ceIdle', ph.w.ce * 0.5, sliceCE(out.logits, idleSlice.start, idleSlice.end, batch.idle));
          }
          if (opts.teacher && (ph.w.kl || ph.w.hidden)) {
            const tout = forward(opts.teacher.cfg, opts.teacher.W, { x: batch.x, pos: batch.pos });
            if (ph.w.kl) {
              const use = batch.task ? [slices.find((x) => x.name === batch.task)!, idleSlice] : [idleSlice];
              add('kl', ph.w.kl, distillKL(tout.logits, out.logits, use, opts.batch * opts.seqFrames));
            }
            if (ph.w.hidden && extraVars['distill.proj']) {
              add('hidden', ph.w.hidden, hiddenLoss(out.emb, cfg.dModel, extraVars['distill.proj'] as tf.Tensor2D, tout.emb, opts.teacher.cfg.dModel));
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

/** Trainable tfjs variables from weight arrays. */
export function makeVariables(cfg: DiverConfig, w: WeightArrays): Record<string, tf.Variable> {
  return toTensors(cfg, w, true) as Record<string, tf.Variable>;
}

/** The current values of the variables as weight arrays. */
export async function variablesToArrays(cfg: DiverConfig, vars: Record<string, tf.Tensor>): Promise<WeightArrays> {
  const out: WeightArrays = {};
  for (const k of Object.keys(weightShapes(cfg))) out[k] = (await vars[k].data()) as Float32Array;
  return out;
}
