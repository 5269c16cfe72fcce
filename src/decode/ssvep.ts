/**
 * SSVEP features: log power at each stimulus frequency and its harmonics, per
 * occipital channel, from one analysis window (single-frequency DFT on a Hann
 * window, so non-bin frequencies such as 8.57 Hz are measured exactly where they
 * are). Classified by shrinkage LDA over frames, like the baseline decoder.
 */
import type { ChannelInfo } from '../types.ts';
import { neuralChannels } from './features.ts';

/** Visual-cortex sites (10-10 names) used when present. */
export const SSVEP_SITES = ['Oz', 'O1', 'O2', 'POz', 'PO3', 'PO4', 'PO7', 'PO8', 'Iz', 'O9', 'O10'];

/** Channels for SSVEP features: occipital sites present, else the first neural channels. */
export function ssvepPicks(channels: ChannelInfo[], max = 8): number[] {
  const neural = neuralChannels(channels);
  const byName = new Map(neural.map((i) => [channels[i]!.label.replace(/\.+$/, '').toLowerCase(), i]));
  const sites = SSVEP_SITES.map((s) => byName.get(s.toLowerCase())).filter((i): i is number => i !== undefined);
  return (sites.length >= 2 ? sites : neural).slice(0, max);
}

/** Power of x (length W, Hann-windowed, mean removed) at frequency f. */
export function toneLogPower(x: Float64Array, srate: number, f: number): number {
  const W = x.length;
  let mean = 0;
  for (let i = 0; i < W; i++) mean += x[i]!;
  mean /= W;
  let re = 0;
  let im = 0;
  const w = (2 * Math.PI * f) / srate;
  for (let i = 0; i < W; i++) {
    const h = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (W - 1 || 1));
    const v = (x[i]! - mean) * h;
    re += v * Math.cos(w * i);
    im -= v * Math.sin(w * i);
  }
  return Math.log10((re * re + im * im) / W + 1e-20);
}

/**
 * Features of one window (W × C row-major): for each picked channel, each frequency,
 * each harmonic 1..`harmonics` below Nyquist: log power. Length picks × freqs × harmonics.
 */
export function ssvepFeatures(window: Float32Array, W: number, C: number, srate: number, picks: number[], freqs: number[], harmonics = 2): Float64Array {
  const out = new Float64Array(picks.length * freqs.length * harmonics);
  const x = new Float64Array(W);
  let o = 0;
  for (const c of picks) {
    for (let t = 0; t < W; t++) x[t] = window[t * C + c]!;
    for (const f of freqs)
      for (let h = 1; h <= harmonics; h++) out[o++] = h * f < srate / 2 ? toneLogPower(x, srate, h * f) : 0;
  }
  return out;
}
