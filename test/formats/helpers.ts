/** Shared helpers for the file-format tests. */
export { DATA, ROOT, dataFile } from '../helpers/data.ts';

/** Dominant frequency of a real signal by a DFT peak search, refined by a fine scan around the peak. */
export function peakFrequency(x: Float64Array, srate: number): number {
  const n = x.length;
  let mean = 0;
  for (const v of x) mean += v;
  mean /= n;
  const power = (f: number): number => {
    let re = 0;
    let im = 0;
    const w = (2 * Math.PI * f) / srate;
    for (let i = 0; i < n; i++) {
      re += (x[i]! - mean) * Math.cos(w * i);
      im -= (x[i]! - mean) * Math.sin(w * i);
    }
    return re * re + im * im;
  };
  // Coarse: 0.25 Hz grid up to Nyquist; fine: 0.005 Hz around the best bin.
  let best = 0;
  let bestP = -1;
  for (let f = 0.25; f < srate / 2; f += 0.25) {
    const p = power(f);
    if (p > bestP) {
      bestP = p;
      best = f;
    }
  }
  let fine = best;
  for (let f = best - 0.25; f <= best + 0.25; f += 0.005) {
    const p = power(f);
    if (p > bestP) {
      bestP = p;
      fine = f;
    }
  }
  return fine;
}
