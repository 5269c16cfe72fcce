/**
 * The training losses: masked-patch reconstruction (pretraining), next-frame
 * prediction, masked cross-entropy per adapter, and the distillation terms
 * (logit KL at a temperature, hidden-state matching).
 */
import * as tf from '@tensorflow/tfjs';
import type { DiverConfig } from '../diver/config.ts';
import { S } from '../diver/tfmodel.ts';

/** Identity forward, zero gradient: the prediction target is not trained through. */
const stopGrad = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([]);
  return { value: x.clone(), gradFunc: (dy: tf.Tensor) => [tf.zerosLike(dy)] };
}) as any) as unknown as (x: tf.Tensor) => tf.Tensor;

/** Masked cross-entropy over one adapter slice; labels −1 are ignored. Returns null when no frame is labelled. */
export function sliceCE(logits: tf.Tensor, start: number, end: number, labels: ArrayLike<number>): tf.Scalar | null {
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

/** Masked-patch reconstruction error of samples, first differences and band powers, weighted toward high frequencies. */
export function reconLoss(cfg: DiverConfig, x: tf.Tensor, recon: tf.Tensor, mask: tf.Tensor): tf.Scalar {
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

/** Next-frame prediction error against the (gradient-stopped) embeddings, frames 1..T−1. */
export function predLoss(pred: tf.Tensor, z: tf.Tensor, batch: number, T: number): tf.Scalar {
  const err = pred.sub(stopGrad(z)).square().mean(-1); // [B,T]
  return err.slice([0, 1], [batch, T - 1]).mean() as tf.Scalar;
}

/** KL(teacher ‖ student) of the softened logits (temperature `tau`, × tau²) summed over adapter slices, n frames. */
export function distillKL(teacherLogits: tf.Tensor, studentLogits: tf.Tensor, use: readonly { start: number; end: number }[], n: number, tau = 2): tf.Scalar {
  let kl: tf.Tensor = tf.scalar(0);
  for (const sl of use) {
    const k = sl.end - sl.start;
    const tl = teacherLogits.reshape([n, -1]).slice([0, sl.start], [n, k]).div(tau);
    const sl2 = studentLogits.reshape([n, -1]).slice([0, sl.start], [n, k]).div(tau);
    const pt = tf.softmax(tl, -1);
    kl = kl.add(pt.mul(tf.logSoftmax(tl, -1).sub(tf.logSoftmax(sl2, -1))).sum(-1).mean().mul(tau * tau));
  }
  return kl as tf.Scalar;
}

/** Hidden matching: the student's embeddings projected by `proj` against the teacher's, mean squared error. */
export function hiddenLoss(emb: tf.Tensor, dModel: number, proj: tf.Tensor2D, teacherEmb: tf.Tensor, teacherDModel: number): tf.Scalar {
  const p = tf.matMul(emb.reshape([-1, dModel]), proj);
  return p.sub(teacherEmb.reshape([-1, teacherDModel])).square().mean() as tf.Scalar;
}
