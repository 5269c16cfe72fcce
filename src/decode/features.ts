/**
 * Log band-power features for the baseline decoder: Welch PSD of each channel's
 * analysis window, averaged inside each band, log10. Non-neural channels (counters,
 * triggers) are left out.
 */
import { welch } from '../dsp/spectral.ts';
import type { ChannelInfo } from '../types.ts';

export interface Band {
  name: string;
  lo: number;
  hi: number;
}

/** Sensorimotor rhythms for motor imagery (Pfurtscheller & Lopes da Silva 1999). */
export const MI_BANDS: Band[] = [
  { name: 'mu', lo: 8, hi: 13 },
  { name: 'beta', lo: 13, hi: 30 },
];

const NON_NEURAL = new Set(['MISC', 'COUNTER', 'TRIGGER', 'STIM', 'AUX']);

/** Indices of the channels used as features. */
export function neuralChannels(channels: ChannelInfo[], pick?: string[]): number[] {
  if (pick?.length) {
    const idx = pick.map((p) => channels.findIndex((c) => c.label.replace(/\.+$/, '').toLowerCase() === p.toLowerCase()));
    const missing = pick.filter((_, i) => idx[i]! < 0);
    if (missing.length) throw new Error(`channels not in the stream: ${missing.join(', ')}`);
    return idx;
  }
  return channels.map((c, i) => (NON_NEURAL.has((c.type ?? '').toUpperCase()) || c.label === 'COUNTER' ? -1 : i)).filter((i) => i >= 0);
}

function pow2Below(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

/**
 * Features of one analysis window (W × C row-major). Optionally common-average
 * referenced first (over the picked channels). Returns channels × bands values.
 */
export function bandPowerFeatures(
  window: Float32Array,
  W: number,
  C: number,
  srate: number,
  picks: number[],
  bands: Band[],
  car = true,
): Float64Array {
  const nperseg = pow2Below(Math.min(W, Math.max(16, Math.round(srate / 2))));
  const x = new Float64Array(W);
  const out = new Float64Array(picks.length * bands.length);
  const ref = new Float64Array(W);
  if (car) {
    for (let t = 0; t < W; t++) {
      let s = 0;
      for (const c of picks) s += window[t * C + c]!;
      ref[t] = s / picks.length;
    }
  }
  picks.forEach((c, pi) => {
    for (let t = 0; t < W; t++) x[t] = window[t * C + c]! - ref[t]!;
    const { f, pxx } = welch(x, { fs: srate, nperseg });
    bands.forEach((b, bi) => {
      let s = 0;
      let n = 0;
      for (let k = 0; k < f.length; k++) if (f[k]! >= b.lo && f[k]! < b.hi) (s += pxx[k]!), n++;
      out[pi * bands.length + bi] = Math.log10((n ? s / n : 0) + 1e-20);
    });
  });
  return out;
}
