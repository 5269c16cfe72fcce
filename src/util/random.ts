/**
 * The project's seeded random numbers: every simulator stream, model
 * initialisation, fixed random feature and randomised test draws from here.
 * Pure integer/float arithmetic, so a seed gives the same numbers on every
 * platform and Node version. Two generators, because existing streams are
 * pinned to each (the simulator's recordings and the shipped model's weights
 * and features were produced with them):
 *
 * - `Rng`: xoshiro128** (Blackman & Vigna 2018), 32-bit state words, seeded
 *   through splitmix32, so any integer seed and any stream number give a
 *   well-mixed state; with a fast table-based normal variate (`gauss`,
 *   `fillGauss`): a 16385-point inverse-CDF table with linear interpolation,
 *   one 32-bit draw per variate and no log/sqrt/trig. That is a piecewise-
 *   uniform approximation of N(0,1), rescaled to unit variance and truncated at
 *   about ±4 σ: plenty for background electrophysiology, and about 5× cheaper
 *   than Box–Muller in V8. The simulator uses it.
 * - `mulberry32`: a one-word closure generator for small seeded draws (model
 *   initialisation, fixed random projections, tests, benchmarks), with
 *   `gaussian()`, the Box–Muller sampler over any uniform source.
 */

/** Mulberry32: a small deterministic uniform [0, 1) generator from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Standard normal sampler over a uniform source (Box–Muller, 1958).
 * `pairs` (default): both variates of each pair are used (cosine, then sine),
 * a zero uniform is redrawn. `pairs: false`: the cosine variate only, two
 * draws per value and the uniform clamped at 1e-12; that is the sequence the
 * DIVER-S initial weights were drawn with, so it must stay as it is.
 */
export function gaussian(rand: () => number, pairs = true): () => number {
  if (!pairs) {
    return () => {
      const u = Math.max(rand(), 1e-12);
      const v = rand();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    };
  }
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

// ---------------------------------------------------------------- xoshiro128** and hashes

/** splitmix32 step: returns [nextState, output]. */
function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [state, z >>> 0];
}

/** Mix several integers into one 32-bit hash (order-sensitive). */
export function hash32(...xs: number[]): number {
  let h = 0x811c9dc5 | 0;
  for (const x of xs) {
    // fold doubles deterministically: integer part and a scaled fraction
    const xi = Math.floor(x);
    const lo = xi | 0;
    const hi = Math.floor(xi / 4294967296) | 0;
    const fr = Math.floor((x - xi) * 4294967296) | 0;
    for (const w of [lo, hi, fr]) {
      h = Math.imul(h ^ w, 0x01000193);
      h ^= h >>> 15;
      h = Math.imul(h, 0x2c1b3c6d);
      h ^= h >>> 12;
    }
  }
  return h >>> 0;
}

/** A deterministic uniform number in [0,1) from a tuple of integers (stateless). */
export function hashUniform(...xs: number[]): number {
  return hash32(...xs) / 4294967296;
}

/** Hash a short string into 32 bits (FNV-1a). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// ---------------------------------------------------------------- inverse normal CDF

/** Acklam's rational approximation of the inverse standard normal CDF (|rel err| < 1.2e-9). */
export function invNormCdf(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pLow) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

const GAUSS_BITS = 14;
const GAUSS_N = 1 << GAUSS_BITS;
const GAUSS_SHIFT = 32 - GAUSS_BITS;
const GAUSS_FRAC_SCALE = 1 / (1 << GAUSS_SHIFT);

/** Table of GAUSS_N + 1 quantiles (as knots); a draw picks a bin and interpolates inside it. */
const GAUSS_TABLE: Float64Array = (() => {
  const t = new Float64Array(GAUSS_N + 1);
  for (let i = 0; i <= GAUSS_N; i++) t[i] = invNormCdf((i + 0.5) / (GAUSS_N + 1));
  // rescale to unit variance: each bin is uniform on [t_i, t_{i+1}], E[x^2] = (a^2+ab+b^2)/3
  let m2 = 0;
  for (let i = 0; i < GAUSS_N; i++) {
    const a = t[i], b = t[i + 1];
    m2 += (a * a + a * b + b * b) / 3;
  }
  const s = 1 / Math.sqrt(m2 / GAUSS_N);
  for (let i = 0; i <= GAUSS_N; i++) t[i] *= s;
  return t;
})();

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** xoshiro128** generator. `stream` selects an independent sequence for the same seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    let st = hash32(seed, stream, 0x5eed);
    let o: number;
    [st, o] = splitmix32(st); this.a = o | 0;
    [st, o] = splitmix32(st); this.b = o | 0;
    [st, o] = splitmix32(st); this.c = o | 0;
    [st, o] = splitmix32(st); this.d = o | 0;
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next 32-bit unsigned integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.u32() * 2.3283064365386963e-10;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Exponential variate with the given mean. */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.uniform());
  }

  /** One standard normal variate (table method, see the file header). */
  gauss(): number {
    const u = this.u32();
    const i = u >>> GAUSS_SHIFT;
    const f = (u & ((1 << GAUSS_SHIFT) - 1)) * GAUSS_FRAC_SCALE;
    const lo = GAUSS_TABLE[i];
    return lo + f * (GAUSS_TABLE[i + 1] - lo);
  }

  /** Fill `out[off .. off+n)` with standard normal variates scaled by `scale` (hot path, state kept in locals). */
  fillGauss(out: Float32Array | Float64Array, off: number, n: number, scale = 1): void {
    let a = this.a, b = this.b, c = this.c, d = this.d;
    const T = GAUSS_TABLE;
    const mask = (1 << GAUSS_SHIFT) - 1;
    for (let k = 0; k < n; k++) {
      const u = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
      const t = b << 9;
      c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = (d << 11) | (d >>> 21);
      const i = u >>> GAUSS_SHIFT;
      const lo = T[i];
      out[off + k] = scale * (lo + (u & mask) * GAUSS_FRAC_SCALE * (T[i + 1] - lo));
    }
    this.a = a; this.b = b; this.c = c; this.d = d;
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = xs[i]; xs[i] = xs[j]; xs[j] = tmp;
    }
    return xs;
  }
}
