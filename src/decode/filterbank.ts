/**
 * Causal band filters for the classical decoders, applied to one window at a time.
 *
 * Each window is filtered on its own (Butterworth SOS from `dsp/design.ts`, the
 * transposed-direct-form-II recurrence of scipy's `sosfilt`, the state started at the
 * steady state for the window's first sample, ≙ `sosfilt(sos, x, zi=sosfilt_zi(sos)*x[0])`).
 * That makes a decoder's output a pure function of the window the framer cuts, so the
 * live path and offline epochs give identical features.
 */
import { butterSos, sosfiltZi, type Sos } from '../dsp/design.ts';

/** A pass band in Hz. */
export type BandEdges = [number, number];

/** Design an order-`order` Butterworth band-pass (low edge 0 → low-pass, high edge ≥ Nyquist → high-pass). */
export function bandSos(band: BandEdges, srate: number, order = 4): Sos {
  const [lo, hi] = band;
  const nyq = srate / 2;
  if (!(lo >= 0 && hi > lo)) throw new Error(`band [${lo}, ${hi}] Hz: need 0 ≤ low < high`);
  if (lo <= 0 && hi >= nyq) throw new Error(`band [${lo}, ${hi}] Hz passes everything at ${srate} Hz`);
  if (lo <= 0) return butterSos({ order, cutoff: hi, btype: 'lowpass', fs: srate });
  if (hi >= nyq) return butterSos({ order, cutoff: lo, btype: 'highpass', fs: srate });
  return butterSos({ order, cutoff: [lo, hi], btype: 'bandpass', fs: srate });
}

/**
 * Causal SOS filtering of each row of x (rows × samples), steady-state start per row
 * (`init = 'steady'`) or zero state (`'zero'`); returns a new array.
 */
export function sosfiltRows(sos: Sos, x: ArrayLike<number>, rows: number, samples: number, init: 'steady' | 'zero' = 'steady'): Float64Array {
  const zi = sosfiltZi(sos);
  const coef = sos.map((r) => [r[0]! / r[3]!, r[1]! / r[3]!, r[2]! / r[3]!, r[4]! / r[3]!, r[5]! / r[3]!] as const);
  const out = new Float64Array(rows * samples);
  for (let c = 0; c < rows; c++) {
    const o = c * samples;
    for (let t = 0; t < samples; t++) out[o + t] = x[o + t]!;
    const x0 = out[o]!; // sosfiltZi already carries each section's DC gain, so zi·x0 is scipy's zi * x[0]
    for (let s = 0; s < coef.length; s++) {
      const [b0, b1, b2, a1, a2] = coef[s]!;
      let z0 = init === 'steady' ? zi[s]![0]! * x0 : 0;
      let z1 = init === 'steady' ? zi[s]![1]! * x0 : 0;
      for (let t = 0; t < samples; t++) {
        const xi = out[o + t]!;
        const y = b0 * xi + z0;
        z0 = b1 * xi - a1 * y + z1;
        z1 = b2 * xi - a2 * y;
        out[o + t] = y;
      }
    }
  }
  return out;
}
