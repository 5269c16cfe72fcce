/** Model outputs over whole recordings, streamed in overlapping windows as the runtime sees them. */
import * as tf from '@tensorflow/tfjs';
import { type DiverConfig, featDim, nClasses } from '../diver/config.ts';
import { forward, type WeightTensors } from '../diver/tfmodel.ts';
import type { FrameSet } from '../data.ts';

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
