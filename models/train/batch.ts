/** Training batches: seeded windows of frames from one recording, with channel subsets and masks. */
import * as tf from '@tensorflow/tfjs';
import { type DiverConfig, featDim } from '../diver/config.ts';
import type { FrameSet, Task } from '../data.ts';

/** One batch as tensors, with its frame labels and idle flags. */
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

/** Frees a batch's tensors. */
export function disposeBatch(b: Batch): void {
  b.x.dispose();
  b.pos.dispose();
  b.mask?.dispose();
}
