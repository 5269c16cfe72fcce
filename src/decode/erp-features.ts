/**
 * Time-domain ERP features for P300 decoding (Blankertz et al. 2011, "Single-trial
 * analysis and classification of ERP components — a tutorial"): band-pass
 * (default 0.5–12 Hz), epochs 0–0.8 s after each stimulus, common-average
 * reference, baseline = the 0.1 s before the stimulus, then the mean amplitude in
 * consecutive bins (default 10 × 80 ms) per channel. Classified by shrinkage LDA.
 */
import { butterSos } from '../dsp/design.ts';
import { sosfiltfiltOffline } from '../dsp/sos.ts';
import type { ChannelInfo } from '../types.ts';
import { neuralChannels } from './features.ts';

export interface ErpOptions {
  /** Epoch start / end after the stimulus (s). Default 0, 0.8. */
  from?: number;
  to?: number;
  /** Number of amplitude bins in the epoch (default 10). */
  bins?: number;
  /** Band-pass edges (Hz, default [0.5, 12]). */
  band?: [number, number];
  /** Baseline before the stimulus (s, default 0.1; 0 = none). */
  baseline?: number;
  /** At most this many channels (default 16), preferring the classic P300 sites. */
  maxChannels?: number;
}

/** Scalp sites where the P300 is largest (10-10 names), in order of preference. */
export const P300_SITES = ['Cz', 'Pz', 'Fz', 'Oz', 'P3', 'P4', 'PO7', 'PO8', 'CPz', 'POz', 'C3', 'C4', 'P7', 'P8', 'O1', 'O2'];

function norm(label: string): string {
  return label.replace(/\.+$/, '').toLowerCase();
}

/** Channels for ERP features: the P300 sites present, else the first neural channels. */
export function erpPicks(channels: ChannelInfo[], max = 16): number[] {
  const neural = neuralChannels(channels);
  const byName = new Map(neural.map((i) => [norm(channels[i]!.label), i]));
  const sites = P300_SITES.map((s) => byName.get(s.toLowerCase())).filter((i): i is number => i !== undefined);
  return (sites.length >= 4 ? sites : neural).slice(0, max);
}

/** Band-passed (zero-phase, offline) and common-average-referenced copy of the picked channels (samples × picks). */
export function erpPrepare(data: Float32Array, C: number, srate: number, picks: number[], opts: ErpOptions = {}): Float64Array {
  const N = data.length / C;
  const P = picks.length;
  const x = new Float64Array(N * P);
  for (let t = 0; t < N; t++) {
    let m = 0;
    for (let k = 0; k < P; k++) m += data[t * C + picks[k]!]!;
    m /= P;
    for (let k = 0; k < P; k++) x[t * P + k] = data[t * C + picks[k]!]! - m;
  }
  const [lo, hi] = opts.band ?? [0.5, 12];
  const sos = butterSos({ order: 4, cutoff: [lo, Math.min(hi, srate * 0.45)], btype: 'bandpass', fs: srate });
  return sosfiltfiltOffline(sos, x, P);
}

/** Features of one epoch from a prepared signal (samples × P); undefined when the epoch leaves the recording. */
export function erpEpochFeatures(x: Float64Array, P: number, srate: number, onsetSample: number, opts: ErpOptions = {}): Float64Array | undefined {
  const N = x.length / P;
  const from = opts.from ?? 0;
  const to = opts.to ?? 0.8;
  const bins = opts.bins ?? 10;
  const nb = Math.round((opts.baseline ?? 0.1) * srate);
  const s0 = onsetSample + Math.round(from * srate);
  const s1 = onsetSample + Math.round(to * srate);
  if (s0 - nb < 0 || s1 > N || s1 - s0 < bins) return undefined;
  const base = new Float64Array(P);
  if (nb > 0) {
    for (let t = s0 - nb; t < s0; t++) for (let k = 0; k < P; k++) base[k]! += x[t * P + k]! / nb;
  }
  const out = new Float64Array(P * bins);
  for (let b = 0; b < bins; b++) {
    const a = s0 + Math.floor(((s1 - s0) * b) / bins);
    const e = s0 + Math.floor(((s1 - s0) * (b + 1)) / bins);
    for (let k = 0; k < P; k++) {
      let s = 0;
      for (let t = a; t < e; t++) s += x[t * P + k]!;
      out[k * bins + b] = s / (e - a) - base[k]!;
    }
  }
  return out;
}
