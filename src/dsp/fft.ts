/**
 * FFT for spectral estimation: iterative radix-2 for powers of two, Bluestein
 * (chirp-z through a power-of-two FFT) for every other length.
 *
 * Plans are objects the caller builds once and keeps (a featurizer's or an
 * estimator's state); nothing is cached at module level. The plain `fft` and
 * `rfftPower` functions build a plan per call and are for one-off use.
 */

/**
 * Radix-2 complex FFT of one power-of-two size: the bit-reversal table and the
 * twiddles of every stage, stored stage after stage so the inner loop reads
 * them in order.
 */
export class Radix2Plan {
  readonly n: number;
  /** rev[i] = i with its log2(n) bits reversed. */
  readonly rev: Uint32Array;
  // After the fused sizes 2 and 4: one radix-2 stage when log2(n) is odd, then
  // radix-4 stages (three twiddle products instead of four per pair of stages).
  private readonly radix2: boolean;
  // radix-2 stage of half 4: e^{−2πik/8}, k < 4
  private readonly t2r: Float64Array;
  private readonly t2i: Float64Array;
  // radix-4 stages, quarter q (4q = size): W^k, W^2k, W^3k (W = e^{−2πi/4q}), k < q, at offset 2(q − q0)
  private readonly q0: number;
  private readonly t4: Float64Array; // interleaved [w1r, w1i, w2r, w2i, w3r, w3i] per k

  constructor(n: number) {
    if (!(n >= 1) || (n & (n - 1)) !== 0) throw new Error(`radix-2 FFT size must be a power of two, got ${n}`);
    this.n = n;
    const bits = Math.round(Math.log2(n));
    this.rev = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.rev[i] = r;
    }
    this.radix2 = bits > 2 && (bits - 2) % 2 === 1;
    this.t2r = new Float64Array(4);
    this.t2i = new Float64Array(4);
    for (let k = 0; k < 4; k++) {
      this.t2r[k] = Math.cos((Math.PI * k) / 4);
      this.t2i[k] = -Math.sin((Math.PI * k) / 4);
    }
    this.q0 = this.radix2 ? 8 : 4;
    let len = 0;
    for (let q = this.q0; q < n; q <<= 2) len += q;
    this.t4 = new Float64Array(6 * len);
    for (let q = this.q0; q < n; q <<= 2) {
      const off = 2 * (q - this.q0); // 6 values per k, Σ of the smaller quarters = (q − q0)/3
      for (let k = 0; k < q; k++) {
        for (let m = 1; m <= 3; m++) {
          const a = (2 * Math.PI * m * k) / (4 * q);
          this.t4[off + 6 * k + 2 * (m - 1)] = Math.cos(a);
          this.t4[off + 6 * k + 2 * (m - 1) + 1] = -Math.sin(a);
        }
      }
    }
  }

  /** In-place forward FFT (e^{−2πi kn/N}), natural order in and out. */
  forward(re: Float64Array, im: Float64Array): void {
    const n = this.n;
    const rev = this.rev;
    for (let i = 0; i < n; i++) {
      const j = rev[i]!;
      if (j > i) {
        let t = re[i]!; re[i] = re[j]!; re[j] = t;
        t = im[i]!; im[i] = im[j]!; im[j] = t;
      }
    }
    this.butterflies(re, im);
  }

  /**
   * The butterfly stages alone, for input already in bit-reversed order
   * (callers that fill the arrays through `rev` skip the permutation pass).
   */
  butterflies(re: Float64Array, im: Float64Array): void {
    const n = this.n;
    if (n === 2) {
      const r = re[1]!, i = im[1]!;
      re[1] = re[0]! - r; im[1] = im[0]! - i;
      re[0]! += r; im[0]! += i;
      return;
    }
    if (n < 4) return;
    // sizes 2 and 4 fused: their twiddles are 1 and −i, no multiplies
    for (let s = 0; s < n; s += 4) {
      const r0 = re[s]!, i0 = im[s]!, r1 = re[s + 1]!, i1 = im[s + 1]!;
      const r2 = re[s + 2]!, i2 = im[s + 2]!, r3 = re[s + 3]!, i3 = im[s + 3]!;
      const ar = r0 + r1, ai = i0 + i1, br = r0 - r1, bi = i0 - i1;
      const cr = r2 + r3, ci = i2 + i3, dr = r2 - r3, di = i2 - i3;
      re[s] = ar + cr; im[s] = ai + ci;
      re[s + 2] = ar - cr; im[s + 2] = ai - ci;
      // d·(−i) = (di, −dr)
      re[s + 1] = br + di; im[s + 1] = bi - dr;
      re[s + 3] = br - di; im[s + 3] = bi + dr;
    }
    if (this.radix2) {
      const t2r = this.t2r, t2i = this.t2i;
      for (let s = 0; s < n; s += 8) {
        for (let k = 0; k < 4; k++) {
          const wr = t2r[k]!, wi = t2i[k]!;
          const a = s + k;
          const b = a + 4;
          const br = re[b]!, bi = im[b]!;
          const xr = br * wr - bi * wi;
          const xi = br * wi + bi * wr;
          const ar = re[a]!, ai = im[a]!;
          re[b] = ar - xr; im[b] = ai - xi;
          re[a] = ar + xr; im[a] = ai + xi;
        }
      }
    }
    // radix-4 DIT: blocks D0, D2, D1, D3 (bit-reversed order) of size q → one DFT of 4q
    const t4 = this.t4;
    for (let q = this.q0; q < n; q <<= 2) {
      const size = q << 2;
      const off = 2 * (q - this.q0); // 6 values per k, Σ of the smaller quarters = (q − q0)/3
      for (let s = 0; s < n; s += size) {
        for (let k = 0; k < q; k++) {
          const t = off + 6 * k;
          const w1r = t4[t]!, w1i = t4[t + 1]!, w2r = t4[t + 2]!, w2i = t4[t + 3]!, w3r = t4[t + 4]!, w3i = t4[t + 5]!;
          const i0 = s + k, i1 = i0 + q, i2 = i1 + q, i3 = i2 + q;
          const a0r = re[i0]!, a0i = im[i0]!;
          // D2 sits in block 1, D1 in block 2
          const x1r = re[i2]!, x1i = im[i2]!;
          const x2r = re[i1]!, x2i = im[i1]!;
          const x3r = re[i3]!, x3i = im[i3]!;
          const b1r = x1r * w1r - x1i * w1i, b1i = x1r * w1i + x1i * w1r;
          const b2r = x2r * w2r - x2i * w2i, b2i = x2r * w2i + x2i * w2r;
          const b3r = x3r * w3r - x3i * w3i, b3i = x3r * w3i + x3i * w3r;
          const er = a0r + b2r, ei = a0i + b2i; // D0 + W²ᵏD2
          const fr = a0r - b2r, fi = a0i - b2i; // D0 − W²ᵏD2
          const gr = b1r + b3r, gi = b1i + b3i; // WᵏD1 + W³ᵏD3
          const hr = b1r - b3r, hi = b1i - b3i; // WᵏD1 − W³ᵏD3
          re[i0] = er + gr; im[i0] = ei + gi;
          re[i2] = er - gr; im[i2] = ei - gi;
          // ∓i·h = (±hi, ∓hr)
          re[i1] = fr + hi; im[i1] = fi - hr;
          re[i3] = fr - hi; im[i3] = fi + hr;
        }
      }
    }
  }
}

/** Complex FFT plan of any length: radix-2 for powers of two, Bluestein otherwise. */
export class FftPlan {
  readonly n: number;
  private readonly r2: Radix2Plan;
  // Bluestein: chirp w_k = e^{−iπk²/n}, the FFT of its conjugate padded to m, work arrays of m
  private readonly m: number = 0;
  private readonly wr?: Float64Array;
  private readonly wi?: Float64Array;
  private readonly br?: Float64Array;
  private readonly bi?: Float64Array;
  private readonly ar?: Float64Array;
  private readonly ai?: Float64Array;

  constructor(n: number) {
    if (!(n >= 1) || !Number.isInteger(n)) throw new Error(`FFT size must be a positive integer, got ${n}`);
    this.n = n;
    if ((n & (n - 1)) === 0) {
      this.r2 = new Radix2Plan(n);
      return;
    }
    let m = 1;
    while (m < 2 * n - 1) m <<= 1;
    this.m = m;
    this.r2 = new Radix2Plan(m);
    const wr = new Float64Array(n);
    const wi = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const ang = (Math.PI * ((k * k) % (2 * n))) / n;
      wr[k] = Math.cos(ang); wi[k] = -Math.sin(ang);
    }
    const br = new Float64Array(m);
    const bi = new Float64Array(m);
    br[0] = wr[0]!; bi[0] = -wi[0]!;
    for (let k = 1; k < n; k++) { br[k] = br[m - k] = wr[k]!; bi[k] = bi[m - k] = -wi[k]!; }
    this.r2.forward(br, bi);
    Object.assign(this, { wr, wi, br, bi, ar: new Float64Array(m), ai: new Float64Array(m) });
  }

  /** In-place forward complex DFT. */
  forward(re: Float64Array, im: Float64Array): void {
    const n = this.n;
    if (this.m === 0) { this.r2.forward(re, im); return; }
    const m = this.m;
    const wr = this.wr!, wi = this.wi!, br = this.br!, bi = this.bi!, ar = this.ar!, ai = this.ai!;
    ar.fill(0); ai.fill(0);
    for (let k = 0; k < n; k++) {
      ar[k] = re[k]! * wr[k]! - im[k]! * wi[k]!;
      ai[k] = re[k]! * wi[k]! + im[k]! * wr[k]!;
    }
    this.r2.forward(ar, ai);
    for (let k = 0; k < m; k++) {
      const r = ar[k]! * br[k]! - ai[k]! * bi[k]!;
      const i = ar[k]! * bi[k]! + ai[k]! * br[k]!;
      ar[k] = r; ai[k] = -i; // conjugate: the inverse through the forward FFT
    }
    this.r2.forward(ar, ai);
    for (let k = 0; k < n; k++) {
      const r = ar[k]! / m;
      const i = -ai[k]! / m;
      re[k] = r * wr[k]! - i * wi[k]!;
      im[k] = r * wi[k]! + i * wr[k]!;
    }
  }
}

/**
 * Power spectrum |X[k]|², k = 0..⌊n/2⌋, of a real signal zero-padded to n.
 * For a power of two n ≥ 4 it runs one complex FFT of n/2 points (even
 * samples → real part, odd → imaginary, placed straight into bit-reversed
 * order, then the even/odd split, each pair k, n/2 − k from one set of
 * loads); any other n goes through a complex plan of n.
 */
export class RealFftPlan {
  readonly n: number;
  private readonly x: Float64Array; // scratch for powerOfRing's general path
  private readonly half: Radix2Plan | undefined;
  private readonly full: FftPlan | undefined;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly c: Float64Array; // cos(2πk/n), k ≤ n/4
  private readonly s: Float64Array; // sin(2πk/n)

  constructor(n: number) {
    if (!(n >= 1) || !Number.isInteger(n)) throw new Error(`FFT size must be a positive integer, got ${n}`);
    this.n = n;
    this.x = new Float64Array(n);
    const pow2 = (n & (n - 1)) === 0 && n >= 4;
    const N = pow2 ? n >> 1 : n;
    this.re = new Float64Array(N);
    this.im = new Float64Array(N);
    if (pow2) {
      this.half = new Radix2Plan(N);
      const q = N >> 1;
      this.c = new Float64Array(q + 1);
      this.s = new Float64Array(q + 1);
      for (let k = 0; k <= q; k++) {
        this.c[k] = Math.cos((2 * Math.PI * k) / n);
        this.s[k] = Math.sin((2 * Math.PI * k) / n);
      }
    } else {
      this.full = new FftPlan(n);
      this.c = this.s = new Float64Array(0);
    }
  }

  /**
   * |X[k]|² for k = 0..⌊n/2⌋ into `out`; `x` holds the first `len` samples
   * (default all of it, at most n), the rest are zeros.
   */
  power(x: ArrayLike<number>, out: Float64Array, len = Math.min(x.length, this.n)): Float64Array {
    const n = this.n;
    const re = this.re;
    const im = this.im;
    if (this.full) {
      for (let i = 0; i < len; i++) re[i] = x[i]!;
      re.fill(0, len);
      im.fill(0);
      this.full.forward(re, im);
      const nb = (n >> 1) + 1;
      for (let k = 0; k < nb; k++) out[k] = re[k]! * re[k]! + im[k]! * im[k]!;
      return out;
    }
    const plan = this.half!;
    const N = n >> 1;
    const rev = plan.rev;
    const pairs = len >> 1;
    for (let m = 0; m < pairs; m++) {
      const j = rev[m]!;
      re[j] = x[2 * m]!;
      im[j] = x[2 * m + 1]!;
    }
    let m0 = pairs;
    if (len & 1) {
      const j = rev[pairs]!;
      re[j] = x[len - 1]!;
      im[j] = 0;
      m0++;
    }
    for (let m = m0; m < N; m++) {
      const j = rev[m]!;
      re[j] = 0;
      im[j] = 0;
    }
    return this.split(out);
  }

  /**
   * The same spectrum for the windowed, de-meaned contents of a circular
   * buffer, without copying them out first: sample i < len is
   * win[i]·(src[off + (head + i) mod len] − mean) for i ≥ lead, 0 before
   * (a ring still filling), and zeros from len to n. Equals filling a
   * buffer that way and calling `power(buffer, out, len)`.
   */
  powerOfRing(src: Float32Array | Float64Array, off: number, len: number, head: number, lead: number, mean: number, win: Float64Array, out: Float64Array): Float64Array {
    // two contiguous runs into a linear scratch, then the usual packing: cheaper
    // than one loop with a wrap test per sample
    if (len > this.n) throw new Error(`ring window of ${len} is longer than the FFT size ${this.n}`);
    const x = this.x;
    const L = len;
    const z = Math.min(Math.max(0, lead), L);
    for (let i = 0; i < z; i++) x[i] = 0;
    const cut = Math.min(L, Math.max(z, len - head));
    for (let i = z; i < cut; i++) x[i] = (src[off + head + i]! - mean) * win[i]!;
    for (let i = cut; i < L; i++) x[i] = (src[off + head + i - len]! - mean) * win[i]!;
    return this.power(x, out, L);
  }

  /** Butterflies on the packed input, then the even/odd split into |X[k]|². */
  private split(out: Float64Array): Float64Array {
    const re = this.re;
    const im = this.im;
    const N = this.n >> 1;
    this.half!.butterflies(re, im);
    const c = this.c;
    const s = this.s;
    // k = 0 and k = N: X = re₀ ± im₀
    const r0 = re[0]!, i0 = im[0]!;
    out[0] = (r0 + i0) * (r0 + i0);
    out[N] = (r0 - i0) * (r0 - i0);
    const q = N >> 1;
    for (let k = 1; k <= q; k++) {
      const b = N - k;
      const ra = re[k]!, ia = im[k]!, rb = re[b]!, ib = im[b]!;
      const er = 0.5 * (ra + rb);
      const ei = 0.5 * (ia - ib);
      const or = 0.5 * (ia + ib);
      const oi = -0.5 * (ra - rb);
      // W·O with W = e^{−2πik/n}; X[k] = E + W·O, X[N−k] = conj(E − W·O)
      const tr = c[k]! * or + s[k]! * oi;
      const ti = c[k]! * oi - s[k]! * or;
      const xr = er + tr, xi = ei + ti;
      out[k] = xr * xr + xi * xi;
      const yr = er - tr, yi = ei - ti;
      out[b] = yr * yr + yi * yi;
    }
    return out;
  }
}

/** In-place forward complex DFT of any length (builds a plan per call; hold an `FftPlan` in loops). */
export function fft(re: Float64Array, im: Float64Array): void {
  new FftPlan(re.length).forward(re, im);
}

/**
 * |rfft(x, nfft)|² for k = 0..nfft/2 written into `out` (length floor(nfft/2)+1).
 * `x` shorter than nfft is zero-padded. Builds a plan per call; hold a
 * `RealFftPlan` where the same size repeats.
 */
export function rfftPower(x: ArrayLike<number>, nfft: number, out: Float64Array): Float64Array {
  return new RealFftPlan(nfft).power(x, out, Math.min(x.length, nfft));
}
