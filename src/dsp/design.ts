/**
 * Filter design, written to reproduce scipy.signal (1.10) step by step:
 *
 * - `butterSos`  ≙ `butter(N, Wn, btype, output='sos', fs=fs)`:
 *   analog prototype (`buttap`) → frequency transform (`lp2lp_zpk`, `lp2hp_zpk`,
 *   `lp2bp_zpk`, `lp2bs_zpk`) with bilinear pre-warping → `bilinear_zpk` →
 *   `zpk2sos(pairing='nearest')`. The pole/zero pairing and section order follow
 *   scipy's algorithm literally, so sections match one by one (checked against
 *   fixtures in test/dsp/design.test.ts).
 * - `iirnotch`   ≙ `iirnotch(w0, Q, fs)`.
 * - `sosfiltZi`  ≙ `sosfilt_zi(sos)` (steady-state initial conditions for a unit step).
 * - `firwinKaiser`, `kaiserord` ≙ `firwin(numtaps, cutoff, window=('kaiser', beta))`, `kaiserord`.
 *
 * A second-order-section (SOS) matrix is `number[][]`, each row `[b0, b1, b2, a0, a1, a2]`
 * with `a0 = 1`, the same layout as scipy.
 */

export type Sos = number[][];
export type BType = 'lowpass' | 'highpass' | 'bandpass' | 'bandstop';

// ---------------------------------------------------------------- complex helpers
interface C { re: number; im: number }
const cx = (re: number, im = 0): C => ({ re, im });
const cadd = (a: C, b: C): C => cx(a.re + b.re, a.im + b.im);
const csub = (a: C, b: C): C => cx(a.re - b.re, a.im - b.im);
const cmul = (a: C, b: C): C => cx(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
const cscale = (a: C, s: number): C => cx(a.re * s, a.im * s);
const cabs = (a: C): number => Math.hypot(a.re, a.im);
const cconj = (a: C): C => cx(a.re, -a.im);
function cdiv(a: C, b: C): C {
  // Smith's algorithm (as numpy), robust to over/underflow.
  if (Math.abs(b.re) >= Math.abs(b.im)) {
    if (b.re === 0 && b.im === 0) return cx(a.re / 0, a.im / 0);
    const r = b.im / b.re;
    const d = b.re + b.im * r;
    return cx((a.re + a.im * r) / d, (a.im - a.re * r) / d);
  }
  const r = b.re / b.im;
  const d = b.im + b.re * r;
  return cx((a.re * r + a.im) / d, (a.im * r - a.re) / d);
}
/** Principal square root, C99 csqrt semantics (sign of a zero imaginary part respected). */
function csqrt(z: C): C {
  const a = z.re;
  const b = z.im;
  if (a === 0 && b === 0) return cx(0, b);
  const t = Math.sqrt((Math.abs(a) + Math.hypot(a, b)) / 2);
  if (a >= 0) return cx(t, b / (2 * t));
  const neg = b < 0 || Object.is(b, -0);
  return cx(Math.abs(b) / (2 * t), neg ? -t : t);
}
const isReal = (z: C): boolean => z.im === 0;
function cprod(zs: C[]): C {
  let acc = cx(1);
  for (const z of zs) acc = cmul(acc, z);
  return acc;
}

interface Zpk { z: C[]; p: C[]; k: number }

// ---------------------------------------------------------------- analog prototype + transforms
function buttap(N: number): Zpk {
  const p: C[] = [];
  for (let m = -N + 1; m < N; m += 2) {
    const th = (Math.PI * m) / (2 * N);
    p.push(cx(-Math.cos(th), -Math.sin(th)));
  }
  return { z: [], p, k: 1 };
}

function lp2lpZpk({ z, p, k }: Zpk, wo: number): Zpk {
  const degree = p.length - z.length;
  return { z: z.map((v) => cscale(v, wo)), p: p.map((v) => cscale(v, wo)), k: k * wo ** degree };
}

function lp2hpZpk({ z, p, k }: Zpk, wo: number): Zpk {
  const degree = p.length - z.length;
  const zh = z.map((v) => cdiv(cx(wo), v));
  const ph = p.map((v) => cdiv(cx(wo), v));
  for (let i = 0; i < degree; i++) zh.push(cx(0));
  const kk = k * cdiv(cprod(z.map((v) => cscale(v, -1))), cprod(p.map((v) => cscale(v, -1)))).re;
  return { z: zh, p: ph, k: kk };
}

function lp2bpZpk({ z, p, k }: Zpk, wo: number, bw: number): Zpk {
  const degree = p.length - z.length;
  const tr = (arr: C[]): C[] => {
    const lp = arr.map((v) => cscale(v, bw / 2));
    const s = lp.map((v) => csqrt(csub(cmul(v, v), cx(wo * wo))));
    return [...lp.map((v, i) => cadd(v, s[i]!)), ...lp.map((v, i) => csub(v, s[i]!))];
  };
  const zb = tr(z);
  for (let i = 0; i < degree; i++) zb.push(cx(0));
  return { z: zb, p: tr(p), k: k * bw ** degree };
}

function lp2bsZpk({ z, p, k }: Zpk, wo: number, bw: number): Zpk {
  const degree = p.length - z.length;
  const tr = (arr: C[]): C[] => {
    const hp = arr.map((v) => cdiv(cx(bw / 2), v));
    const s = hp.map((v) => csqrt(csub(cmul(v, v), cx(wo * wo))));
    return [...hp.map((v, i) => cadd(v, s[i]!)), ...hp.map((v, i) => csub(v, s[i]!))];
  };
  const zb = tr(z);
  for (let i = 0; i < degree; i++) zb.push(cx(0, wo));
  for (let i = 0; i < degree; i++) zb.push(cx(0, -wo));
  const kk = k * cdiv(cprod(z.map((v) => cscale(v, -1))), cprod(p.map((v) => cscale(v, -1)))).re;
  return { z: zb, p: tr(p), k: kk };
}

function bilinearZpk({ z, p, k }: Zpk, fs: number): Zpk {
  const degree = p.length - z.length;
  const fs2 = cx(2 * fs);
  const zz = z.map((v) => cdiv(cadd(fs2, v), csub(fs2, v)));
  const pz = p.map((v) => cdiv(cadd(fs2, v), csub(fs2, v)));
  for (let i = 0; i < degree; i++) zz.push(cx(-1));
  const kk = k * cdiv(cprod(z.map((v) => csub(fs2, v))), cprod(p.map((v) => csub(fs2, v)))).re;
  return { z: zz, p: pz, k: kk };
}

// ---------------------------------------------------------------- zpk2sos (scipy 'nearest' pairing)
const EPS = 2.220446049250313e-16;

/** scipy's `_cplxreal`: one of each conjugate pair (positive imaginary part) followed by the reals. */
function cplxreal(zIn: C[]): C[] {
  if (zIn.length === 0) return [];
  const tol = 100 * EPS;
  const z = [...zIn].sort((a, b) => a.re - b.re || Math.abs(a.im) - Math.abs(b.im));
  const real: number[] = [];
  const rest: C[] = [];
  for (const v of z) (Math.abs(v.im) <= tol * cabs(v) ? real.push(v.re) : rest.push(v));
  const zp = rest.filter((v) => v.im > 0);
  const zn = rest.filter((v) => v.im < 0);
  if (zp.length !== zn.length) throw new Error('cplxreal: complex value with no matching conjugate');
  // runs of (approximately) equal real part: sort each run by |imag|
  let i = 0;
  while (i < zp.length) {
    let j = i;
    while (j + 1 < zp.length && zp[j + 1]!.re - zp[j]!.re <= tol * cabs(zp[j]!)) j++;
    if (j > i) {
      const byIm = (a: C, b: C) => Math.abs(a.im) - Math.abs(b.im);
      const sp = zp.slice(i, j + 1).sort(byIm);
      const sn = zn.slice(i, j + 1).sort(byIm);
      for (let q = i; q <= j; q++) { zp[q] = sp[q - i]!; zn[q] = sn[q - i]!; }
    }
    i = j + 1;
  }
  for (let q = 0; q < zp.length; q++) {
    if (cabs(csub(zp[q]!, cconj(zn[q]!))) > tol * cabs(zn[q]!)) {
      throw new Error('cplxreal: complex value with no matching conjugate');
    }
  }
  const zc = zp.map((v, q) => cscale(cadd(v, cconj(zn[q]!)), 0.5));
  return [...zc, ...real.map((r) => cx(r))];
}

function argmin(vals: number[]): number {
  let best = 0;
  for (let i = 1; i < vals.length; i++) if (vals[i]! < vals[best]!) best = i;
  return best;
}
const idxWorst = (p: C[]): number => argmin(p.map((v) => Math.abs(1 - cabs(v))));

function nearestIdx(fro: C[], to: C, which: 'real' | 'complex' | 'any'): number {
  const order = fro.map((v, i) => ({ i, d: cabs(csub(v, to)) })).sort((a, b) => a.d - b.d || a.i - b.i);
  for (const { i } of order) {
    if (which === 'any') return i;
    if ((which === 'real') === isReal(fro[i]!)) return i;
  }
  throw new Error('zpk2sos: no zero of the requested kind');
}

function poly(roots: C[]): C[] {
  let a: C[] = [cx(1)];
  for (const r of roots) {
    const next: C[] = new Array(a.length + 1).fill(null).map(() => cx(0));
    for (let i = 0; i < a.length; i++) {
      next[i] = cadd(next[i]!, a[i]!);
      next[i + 1] = cadd(next[i + 1]!, cmul(a[i]!, cscale(r, -1)));
    }
    a = next;
  }
  return a;
}

function singleZpkSos(z: C[], p: C[]): number[] {
  const sos = [0, 0, 0, 0, 0, 0];
  const b = poly(z).map((v) => v.re);
  const a = poly(p).map((v) => v.re);
  for (let i = 0; i < b.length; i++) sos[3 - b.length + i] = b[i]!;
  for (let i = 0; i < a.length; i++) sos[6 - a.length + i] = a[i]!;
  return sos;
}

function zpk2sos({ z: zIn, p: pIn, k }: Zpk): Sos {
  if (zIn.length === 0 && pIn.length === 0) return [[k, 0, 0, 1, 0, 0]];
  let p = [...pIn];
  let z = [...zIn];
  while (p.length < z.length) p.push(cx(0));
  while (z.length < p.length) z.push(cx(0));
  const nSections = Math.floor((Math.max(p.length, z.length) + 1) / 2);
  if (p.length % 2 === 1) { p.push(cx(0)); z.push(cx(0)); }
  z = cplxreal(z);
  p = cplxreal(p);
  const del = (arr: C[], i: number): C => arr.splice(i, 1)[0]!;
  const sos: Sos = new Array(nSections).fill(null).map(() => [0, 0, 0, 0, 0, 0]);
  for (let si = nSections - 1; si >= 0; si--) {
    const p1 = del(p, idxWorst(p));
    const nRealP = p.filter(isReal).length;
    if (isReal(p1) && nRealP === 0) {
      const z1 = del(z, nearestIdx(z, p1, 'real'));
      sos[si] = singleZpkSos([z1, cx(0)], [p1, cx(0)]);
    } else if (p.length + 1 === z.length && !isReal(p1) && nRealP === 1 && z.filter(isReal).length === 1) {
      const z1 = del(z, nearestIdx(z, p1, 'complex'));
      sos[si] = singleZpkSos([z1, cconj(z1)], [p1, cconj(p1)]);
    } else {
      let p2: C;
      if (isReal(p1)) {
        const realIdx = p.map((v, i) => (isReal(v) ? i : -1)).filter((i) => i >= 0);
        const w = idxWorst(realIdx.map((i) => p[i]!));
        p2 = del(p, realIdx[w]!);
      } else {
        p2 = cconj(p1);
      }
      if (z.length > 0) {
        const z1 = del(z, nearestIdx(z, p1, 'any'));
        if (!isReal(z1)) {
          sos[si] = singleZpkSos([z1, cconj(z1)], [p1, p2]);
        } else if (z.length > 0) {
          const z2 = del(z, nearestIdx(z, p1, 'real'));
          sos[si] = singleZpkSos([z1, z2], [p1, p2]);
        } else {
          sos[si] = singleZpkSos([z1], [p1, p2]);
        }
      } else {
        sos[si] = singleZpkSos([], [p1, p2]);
      }
    }
  }
  for (let j = 0; j < 3; j++) sos[0]![j]! *= k;
  return sos;
}

// ---------------------------------------------------------------- public designs
export interface ButterOptions {
  order: number;
  /** Cutoff in Hz: a number for lowpass/highpass, [low, high] for bandpass/bandstop. */
  cutoff: number | [number, number];
  btype: BType;
  /** Sampling rate in Hz. */
  fs: number;
}

/** Butterworth digital filter as second-order sections, ≙ scipy `butter(N, Wn, btype, output='sos', fs=fs)`. */
export function butterSos(opts: ButterOptions): Sos {
  const { order, btype, fs } = opts;
  if (!Number.isInteger(order) || order < 1) throw new Error(`butter: order must be a positive integer, got ${order}`);
  const wnHz = Array.isArray(opts.cutoff) ? opts.cutoff : [opts.cutoff];
  const band = btype === 'bandpass' || btype === 'bandstop';
  if (band !== (wnHz.length === 2)) throw new Error(`butter: ${btype} needs ${band ? 'two cutoffs' : 'one cutoff'}`);
  const wn = wnHz.map((f) => (2 * f) / fs);
  for (const w of wn) if (!(w > 0 && w < 1)) throw new Error(`butter: cutoff must be in (0, fs/2), got ${JSON.stringify(opts.cutoff)} at fs=${fs}`);
  if (band && !(wn[0]! < wn[1]!)) throw new Error('butter: low cutoff must be below high cutoff');
  const fsn = 2.0;
  const warped = wn.map((w) => 2 * fsn * Math.tan((Math.PI * w) / fsn));
  let zpk = buttap(order);
  if (btype === 'lowpass') zpk = lp2lpZpk(zpk, warped[0]!);
  else if (btype === 'highpass') zpk = lp2hpZpk(zpk, warped[0]!);
  else {
    const bw = warped[1]! - warped[0]!;
    const wo = Math.sqrt(warped[0]! * warped[1]!);
    zpk = btype === 'bandpass' ? lp2bpZpk(zpk, wo, bw) : lp2bsZpk(zpk, wo, bw);
  }
  return zpk2sos(bilinearZpk(zpk, fsn));
}

/** Second-order IIR notch, ≙ scipy `iirnotch(w0, Q, fs)`; returns `[b, a]` (each length 3). */
export function iirnotch(f0: number, Q: number, fs: number): [number[], number[]] {
  let w0 = (2 * f0) / fs;
  if (w0 > 1 || w0 < 0) throw new Error('iirnotch: w0 should be such that 0 < w0 < fs/2');
  let bw = w0 / Q;
  bw *= Math.PI;
  w0 *= Math.PI;
  const gb = 1 / Math.sqrt(2);
  const beta = (Math.sqrt(1.0 - gb ** 2.0) / gb) * Math.tan(bw / 2.0);
  const gain = 1.0 / (1.0 + beta);
  const b = [gain * 1.0, gain * (-2.0 * Math.cos(w0)), gain * 1.0];
  const a = [1.0, -2.0 * gain * Math.cos(w0), 2.0 * gain - 1.0];
  return [b, a];
}

export interface NotchOptions {
  /** Line frequency (Hz), typically 50 or 60. */
  freq: number;
  /** Quality factor of each notch (f/bandwidth at −3 dB). Default 30. */
  Q?: number;
  /** Also notch integer multiples of `freq` below `maxFreq` (default true). */
  harmonics?: boolean;
  /** Highest frequency notched; default: just below the Nyquist frequency. */
  maxFreq?: number;
  fs: number;
}

/** Frequencies that `notchSos` notches. Harmonics strictly below min(maxFreq, fs/2). */
export function notchFrequencies(opts: NotchOptions): number[] {
  const nyq = opts.fs / 2;
  const top = Math.min(opts.maxFreq ?? nyq, nyq);
  const out: number[] = [];
  const harmonics = opts.harmonics ?? true;
  for (let h = 1; h * opts.freq < top - 1e-9; h++) {
    out.push(h * opts.freq);
    if (!harmonics) break;
  }
  return out;
}

/** A cascade of `iirnotch` sections at the line frequency and (optionally) its harmonics. */
export function notchSos(opts: NotchOptions): Sos {
  const Q = opts.Q ?? 30;
  return notchFrequencies(opts).map((f) => {
    const [b, a] = iirnotch(f, Q, opts.fs);
    return [...b, ...a];
  });
}

/** Steady-state initial state for a unit step, ≙ scipy `sosfilt_zi(sos)`: shape nSections × 2. */
export function sosfiltZi(sos: Sos): number[][] {
  const zi: number[][] = [];
  let scale = 1.0;
  for (const [b0, b1, b2, a0, a1, a2] of sos as [number, number, number, number, number, number][]) {
    // lfilter_zi for a biquad normalised so that a0 = 1: solve (I - companion(a)^T) zi = b[1:] - a[1:] b0
    const nb0 = b0 / a0, nb1 = b1 / a0, nb2 = b2 / a0, na1 = a1 / a0, na2 = a2 / a0;
    const B0 = nb1 - na1 * nb0;
    const B1 = nb2 - na2 * nb0;
    const z0 = (B0 + B1) / (1 + na1 + na2);
    const z1 = B1 - na2 * z0;
    zi.push([scale * z0, scale * z1]);
    scale *= (b0 + b1 + b2) / (a0 + a1 + a2);
  }
  return zi;
}

/** Complex frequency response of an SOS cascade at `freqs` (Hz): returns [re[], im[]] (≙ `sosfreqz(sos, worN=freqs, fs=fs)`). */
export function sosFreqz(sos: Sos, freqs: ArrayLike<number>, fs: number): { re: Float64Array; im: Float64Array; mag: Float64Array } {
  const n = freqs.length;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const mag = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const w = (2 * Math.PI * freqs[i]!) / fs;
    const z1 = cx(Math.cos(w), -Math.sin(w));
    const z2 = cmul(z1, z1);
    let h = cx(1);
    for (const [b0, b1, b2, a0, a1, a2] of sos as [number, number, number, number, number, number][]) {
      const num = cadd(cadd(cx(b0), cscale(z1, b1)), cscale(z2, b2));
      const den = cadd(cadd(cx(a0), cscale(z1, a1)), cscale(z2, a2));
      h = cmul(h, cdiv(num, den));
    }
    re[i] = h.re; im[i] = h.im; mag[i] = cabs(h);
  }
  return { re, im, mag };
}

// ---------------------------------------------------------------- FIR design (Kaiser)
/** Modified Bessel function of the first kind, order 0 (power series; exact to double precision for |x| < 30). */
export function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 500; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** Symmetric Kaiser window of length M, ≙ `scipy.signal.windows.kaiser(M, beta, sym=True)`. */
export function kaiserWindow(M: number, beta: number): Float64Array {
  const w = new Float64Array(M);
  if (M === 1) { w[0] = 1; return w; }
  const alpha = (M - 1) / 2;
  const den = besselI0(beta);
  for (let n = 0; n < M; n++) {
    const r = (n - alpha) / alpha;
    w[n] = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / den;
  }
  return w;
}

const sinc = (x: number): number => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));

/**
 * Low-pass linear-phase FIR, ≙ scipy `firwin(numtaps, cutoff, window=('kaiser', beta))`
 * with `cutoff` relative to the Nyquist frequency (1 = Nyquist) and unit DC gain.
 */
export function firwinKaiser(numtaps: number, cutoff: number, beta: number): Float64Array {
  const alpha = 0.5 * (numtaps - 1);
  const h = new Float64Array(numtaps);
  for (let i = 0; i < numtaps; i++) {
    const m = i - alpha;
    h[i] = cutoff * sinc(cutoff * m) - 0 * sinc(0 * m);
  }
  const win = kaiserWindow(numtaps, beta);
  let s = 0;
  for (let i = 0; i < numtaps; i++) { h[i]! *= win[i]!; }
  for (let i = 0; i < numtaps; i++) s += h[i]!; // scale_frequency 0 → cos(0) = 1
  for (let i = 0; i < numtaps; i++) h[i]! /= s;
  return h;
}

/** Kaiser β for a stop-band attenuation of `A` dB, ≙ `kaiser_beta`. */
export function kaiserBeta(A: number): number {
  if (A > 50) return 0.1102 * (A - 8.7);
  if (A > 21) return 0.5842 * (A - 21) ** 0.4 + 0.07886 * (A - 21);
  return 0;
}

/** ≙ `kaiserord(ripple, width)`; `width` relative to Nyquist. Returns [numtaps, beta]. */
export function kaiserord(rippleDb: number, width: number): [number, number] {
  const A = Math.abs(rippleDb);
  if (A < 8) throw new Error('kaiserord: attenuation too small for the Kaiser formula');
  const numtaps = (A - 7.95) / 2.285 / (Math.PI * width) + 1;
  return [Math.ceil(numtaps), kaiserBeta(A)];
}

/** Frequency response magnitude of an FIR `h` at `f` (Hz), sampled at `fs`. */
export function firMagnitude(h: ArrayLike<number>, f: number, fs: number): number {
  const w = (2 * Math.PI * f) / fs;
  let re = 0;
  let im = 0;
  for (let k = 0; k < h.length; k++) { re += h[k]! * Math.cos(w * k); im -= h[k]! * Math.sin(w * k); }
  return Math.hypot(re, im);
}
