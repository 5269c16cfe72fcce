/**
 * Tiny spectral helpers for the device tests (not a test file itself):
 * Goertzel power at one frequency with a Hann window, band power as the mean over a
 * frequency grid, and channel extraction from row-major sample blocks.
 */

/** Samples [i0, i1) of channel c from a row-major block with C channels, mean removed. */
export function column(data: Float32Array, C: number, c: number, i0 = 0, i1 = data.length / C): Float64Array {
  const n = Math.max(0, i1 - i0);
  const out = new Float64Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    out[i] = data[(i0 + i) * C + c];
    m += out[i];
  }
  m /= n || 1;
  for (let i = 0; i < n; i++) out[i] -= m;
  return out;
}

/** Power at frequency f (Hz) of x sampled at fs, Hann-windowed Goertzel, normalised by N². */
export function goertzel(x: ArrayLike<number>, fs: number, f: number): number {
  const n = x.length;
  const w = (2 * Math.PI * f) / fs;
  const coeff = 2 * Math.cos(w);
  let s1 = 0, s2 = 0;
  for (let i = 0; i < n; i++) {
    const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    const s0 = x[i] * hann + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const p = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return p / (n * n);
}

/** Mean Goertzel power over [f1, f2] in `step` Hz steps. */
export function bandPower(x: ArrayLike<number>, fs: number, f1: number, f2: number, step = 1): number {
  let s = 0, k = 0;
  for (let f = f1; f <= f2 + 1e-9; f += step) {
    s += goertzel(x, fs, f);
    k++;
  }
  return s / k;
}

export const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Welch-style power at f: mean Goertzel power over non-overlapping segments of `segSec` seconds. */
export function welch(x: ArrayLike<number>, fs: number, f: number, segSec = 2): number {
  const L = Math.round(segSec * fs);
  const nseg = Math.floor(x.length / L);
  let s = 0;
  for (let k = 0; k < nseg; k++) s += goertzel(Array.prototype.slice.call(x, k * L, (k + 1) * L), fs, f);
  return s / Math.max(1, nseg);
}
