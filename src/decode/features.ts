/**
 * Log band-power features for the baseline decoder: Welch PSD of each channel's
 * analysis window, averaged inside each band, log10. Non-neural channels (counters,
 * triggers) are left out.
 */
import { welch } from '../dsp/spectral.ts';
import { RealFftPlan } from '../dsp/fft.ts';
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
 * Log band power of the newest analysis window, by Welch's method on a segment grid
 * fixed to absolute sample indices: the signal is box-averaged by q (down to ≥ 4× the
 * highest band edge; < 1 dB loss at that edge) and common-average referenced, cut into
 * Hann segments of L decimated samples at a hop of L/2 counted from sample 0, and the
 * feature is the mean, over the complete segments inside the window, of each band's
 * mean PSD. Because the grid does not move with the window, consecutive frames share
 * most segments, and each segment's band powers are computed once and reused: the
 * result is a pure function of the window, the cost per frame is the new segments only.
 */
export class BandPowerFeatures {
  private readonly cache = new Map<number, Float64Array>();
  private plan: RealFftPlan | undefined; // FFT plan of the segment length, built once
  private key = '';

  constructor(
    private readonly bands: Band[],
    private readonly car = true,
  ) {}

  /**
   * Features (picks × bands) of a window of W rows (× C channels) whose newest row is
   * absolute sample `endIndex − 1` of buffer `ringId`; undefined before one full segment.
   */
  compute(window: Float32Array, W: number, C: number, srate: number, picks: number[], ringId: number, endIndex: number): Float64Array | undefined {
    const maxHi = Math.max(...this.bands.map((b) => b.hi));
    const q = Math.max(1, Math.floor(srate / (4 * maxHi)));
    const fs = srate / q;
    const L = pow2Below(Math.min(Math.floor(W / q), Math.max(16, Math.round(fs / 2))));
    const step = L / 2;
    const key = `${ringId}|${srate}|${C}|${picks.join(',')}|${W}`;
    if (key !== this.key) {
      this.cache.clear();
      this.key = key;
    }
    const firstRaw = Math.max(0, endIndex - W);
    const d0 = Math.ceil(firstRaw / q);
    const d1 = Math.floor(endIndex / q);
    const k0 = Math.ceil(d0 / step);
    const k1 = Math.floor((d1 - L) / step);
    if (k1 < k0 || L < 4) return undefined;
    const P = picks.length;
    const B = this.bands.length;
    const sum = new Float64Array(P * B);
    for (let k = k0; k <= k1; k++) {
      let seg = this.cache.get(k);
      if (!seg) this.cache.set(k, (seg = this.segment(window, W, C, picks, endIndex, q, fs, L, k * step)));
      for (let i = 0; i < sum.length; i++) sum[i]! += seg[i]!;
    }
    for (const k of this.cache.keys()) if (k < k0) this.cache.delete(k);
    const n = k1 - k0 + 1;
    for (let i = 0; i < sum.length; i++) sum[i] = Math.log10(sum[i]! / n + 1e-20);
    return sum;
  }

  /** Band-mean PSD of every pick for the segment starting at decimated sample `dStart`. */
  private segment(window: Float32Array, W: number, C: number, picks: number[], endIndex: number, q: number, fs: number, L: number, dStart: number): Float64Array {
    const P = picks.length;
    const rowOf = (raw: number) => raw - (endIndex - W); // absolute sample → window row
    const dec = new Float64Array(L * P);
    for (let t = 0; t < L; t++) {
      const o = t * P;
      for (let j = 0; j < q; j++) {
        const row = rowOf((dStart + t) * q + j) * C;
        for (let pi = 0; pi < P; pi++) dec[o + pi]! += window[row + picks[pi]!]!;
      }
      let mean = 0;
      for (let pi = 0; pi < P; pi++) mean += (dec[o + pi]! /= q);
      if (this.car) {
        mean /= P;
        for (let pi = 0; pi < P; pi++) dec[o + pi]! -= mean;
      }
    }
    const out = new Float64Array(P * this.bands.length);
    const x = new Float64Array(L);
    for (let pi = 0; pi < P; pi++) {
      for (let t = 0; t < L; t++) x[t] = dec[t * P + pi]!;
      if (this.plan?.n !== L) this.plan = new RealFftPlan(L);
      const { f, pxx } = welch(x, { fs, nperseg: L, plan: this.plan });
      this.bands.forEach((b, bi) => {
        let s = 0;
        let n = 0;
        for (let k = 0; k < f.length; k++) if (f[k]! >= b.lo && f[k]! < b.hi) (s += pxx[k]!), n++;
        out[pi * this.bands.length + bi] = n ? s / n : 0;
      });
    }
    return out;
  }
}
