/**
 * The recursive filters that shape Gaussian white noise into the simulator's
 * background spectrum (1/f^β) and its rhythms (AR(2) resonators): cheap per
 * sample, so cost grows with sources, not with spectral work.
 */

/** 1/f^β noise as a sum of one-pole low-passes driven by the same white noise (Kellet-style). */
export interface Pink {
  p: Float64Array;
  g: Float64Array;
  white: number;
}

/** Design a 1/f^beta filter for sampling rate fs, scaled to total rms `rms`. */
export function designPink(fs: number, beta: number, rms: number, fmax = fs / 3): Pink {
  const fc: number[] = [];
  const top = Math.min(fmax, fs / 3);
  for (let f = 0.2; f < top && fc.length < 8; f *= 5) fc.push(f);
  const gamma = beta / 2;
  const p = new Float64Array(fc.length);
  const g = new Float64Array(fc.length);
  for (let i = 0; i < fc.length; i++) {
    p[i] = Math.exp((-2 * Math.PI * fc[i]) / fs);
    g[i] = Math.pow(fc[i], -gamma) * (1 - p[i]);
  }
  // white floor only for full-band designs; band-limited ones roll off as 1/f² above fmax
  let white = fmax >= fs / 3 ? Math.pow(fc[fc.length - 1] * 5, -gamma) : 0;
  // closed-form variance of Σ x_i + white·e, x_i = p_i x_i + g_i e (shared e)
  let v = white * white;
  for (let i = 0; i < p.length; i++) {
    v += 2 * white * g[i];
    for (let j = 0; j < p.length; j++) v += (g[i] * g[j]) / (1 - p[i] * p[j]);
  }
  const s = rms / Math.sqrt(v);
  for (let i = 0; i < g.length; i++) g[i] *= s;
  white *= s;
  return { p, g, white };
}

/** AR(2) resonator coefficients with unit output variance. */
export function resonator(f: number, bw: number, fs: number): { a1: number; a2: number; g: number } {
  const r = Math.exp((-Math.PI * bw) / fs);
  const a1 = 2 * r * Math.cos((2 * Math.PI * f) / fs);
  const a2 = -r * r;
  const v = (1 - a2) / ((1 + a2) * ((1 - a2) * (1 - a2) - a1 * a1));
  return { a1, a2, g: 1 / Math.sqrt(v) };
}
