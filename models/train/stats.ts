/** Input standardisation statistics, computed from the training recordings. */
import { type DiverConfig, featDim } from '../diver/config.ts';
import type { WeightArrays } from '../diver/tfmodel.ts';
import type { FrameSet } from '../data.ts';

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
