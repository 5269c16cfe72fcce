/**
 * Spectral estimation and per-frame log band power.
 *
 * - `welch` ≙ scipy `welch(x, fs, window='hann', nperseg, noverlap, nfft, detrend='constant',
 *   return_onesided=True, scaling='density', average='mean')`.
 * - `dpss`  ≙ scipy `windows.dpss(M, NW, Kmax)` (unit-energy tapers, scipy's sign convention).
 * - `multitaperPsd`: mean of the K eigenspectra (equal weights), one-sided density.
 * - `BandPower`: stateful, emits one row of log band power per hop for every channel × band.
 */
import type { ChannelInfo, SignalChunk } from '../types.ts';
import { RealFftPlan } from './fft.ts';
import { channelKey, nSamples, type ChunkProcessor } from './chunk.ts';

/** Periodic Hann window (scipy `get_window('hann', n)`, fftbins=True). */
export function hannPeriodic(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

export interface WelchOptions {
  fs: number;
  nperseg: number;
  /** Default floor(nperseg / 2). */
  noverlap?: number;
  /** Default nperseg. */
  nfft?: number;
  /** Default periodic Hann. */
  window?: Float64Array;
  /** Default 'constant' (subtract each segment's mean). */
  detrend?: 'constant' | 'none';
  /** FFT plan of size nfft to reuse (callers that repeat the same size keep one); default a new one. */
  plan?: RealFftPlan;
}

/** One-sided power spectral density by Welch's method (units²/Hz). */
export function welch(x: ArrayLike<number>, opts: WelchOptions): { f: Float64Array; pxx: Float64Array } {
  const { fs, nperseg } = opts;
  const noverlap = opts.noverlap ?? Math.floor(nperseg / 2);
  const nfft = opts.nfft ?? nperseg;
  const win = opts.window ?? hannPeriodic(nperseg);
  const detrend = opts.detrend ?? 'constant';
  const step = nperseg - noverlap;
  const nseg = Math.floor((x.length - noverlap) / step);
  const nb = (nfft >> 1) + 1;
  const pxx = new Float64Array(nb);
  const f = new Float64Array(nb);
  for (let k = 0; k < nb; k++) f[k] = (k * fs) / nfft;
  if (nseg < 1) throw new Error(`welch: signal of ${x.length} samples shorter than nperseg ${nperseg}`);
  let s2 = 0;
  for (let i = 0; i < nperseg; i++) s2 += win[i]! * win[i]!;
  const scale = 1 / (fs * s2);
  const seg = new Float64Array(nperseg);
  const pw = new Float64Array(nb);
  const plan = opts.plan?.n === nfft ? opts.plan : new RealFftPlan(nfft);
  for (let s = 0; s < nseg; s++) {
    const off = s * step;
    let mean = 0;
    if (detrend === 'constant') { for (let i = 0; i < nperseg; i++) mean += x[off + i]!; mean /= nperseg; }
    for (let i = 0; i < nperseg; i++) seg[i] = (x[off + i]! - mean) * win[i]!;
    plan.power(seg, pw, Math.min(nperseg, nfft));
    for (let k = 0; k < nb; k++) pxx[k]! += pw[k]!;
  }
  const last = nfft % 2 === 0 ? nb - 1 : nb;
  for (let k = 0; k < nb; k++) {
    pxx[k] = (pxx[k]! * scale) / nseg;
    if (k > 0 && k < last) pxx[k]! *= 2;
  }
  return { f, pxx };
}

// ---------------------------------------------------------------- DPSS
/** Number of eigenvalues of the symmetric tridiagonal (d, e) that are < x (Sturm sequence). */
function sturmCount(d: Float64Array, e2: Float64Array, x: number): number {
  let count = 0;
  let q = d[0]! - x;
  if (q < 0) count++;
  for (let i = 1; i < d.length; i++) {
    if (q === 0) q = 1e-300;
    q = d[i]! - x - e2[i - 1]! / q;
    if (q < 0) count++;
  }
  return count;
}

/** Solve the tridiagonal system (sub = e, diag = d − λ, super = e) for rhs b, Gaussian elimination with partial pivoting. */
function solveTridiagShifted(d: Float64Array, e: Float64Array, lambda: number, b: Float64Array): Float64Array {
  const n = d.length;
  const tiny = 1e-14 * Math.max(1, Math.abs(lambda));
  // Rows as (l, dd, u, u2) after pivoting (like LAPACK dgtsv).
  const dl = new Float64Array(n); // sub-diagonal
  const dd = new Float64Array(n);
  const du = new Float64Array(n); // super-diagonal
  const du2 = new Float64Array(n);
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) dd[i] = d[i]! - lambda;
  for (let i = 0; i < n - 1; i++) { dl[i] = e[i]!; du[i] = e[i]!; }
  for (let i = 0; i < n - 1; i++) {
    if (Math.abs(dd[i]!) >= Math.abs(dl[i]!)) {
      if (Math.abs(dd[i]!) < tiny) dd[i] = tiny;
      const f = dl[i]! / dd[i]!;
      dd[i + 1]! -= f * du[i]!;
      if (i < n - 2) du2[i] = 0;
      x[i + 1]! -= f * x[i]!;
    } else {
      const f = dd[i]! / dl[i]!;
      dd[i] = dl[i]!;
      const t = dd[i + 1]!;
      dd[i + 1] = du[i]! - f * t;
      du[i] = t;
      if (i < n - 2) { du2[i] = du[i + 1]!; du[i + 1] = -f * du2[i]!; }
      const tx = x[i]!;
      x[i] = x[i + 1]!;
      x[i + 1] = tx - f * x[i + 1]!;
    }
  }
  if (Math.abs(dd[n - 1]!) < tiny) dd[n - 1] = tiny;
  x[n - 1] = x[n - 1]! / dd[n - 1]!;
  if (n > 1) x[n - 2] = (x[n - 2]! - du[n - 2]! * x[n - 1]!) / dd[n - 2]!;
  for (let i = n - 3; i >= 0; i--) x[i] = (x[i]! - du[i]! * x[i + 1]! - du2[i]! * x[i + 2]!) / dd[i]!;
  return x;
}

/**
 * Discrete prolate spheroidal (Slepian) sequences, ≙ scipy `windows.dpss(M, NW, Kmax)`:
 * eigenvectors of the tridiagonal commuting matrix, unit energy, symmetric tapers with a
 * positive sum and antisymmetric ones starting positive.
 */
export function dpss(M: number, NW: number, K: number): Float64Array[] {
  if (K > M) throw new Error('dpss: Kmax must be <= M');
  const W = NW / M;
  const d = new Float64Array(M);
  const e = new Float64Array(Math.max(M - 1, 0));
  const e2 = new Float64Array(Math.max(M - 1, 0));
  const c = Math.cos(2 * Math.PI * W);
  for (let n = 0; n < M; n++) d[n] = ((M - 1 - 2 * n) / 2) ** 2 * c;
  for (let n = 1; n < M; n++) { e[n - 1] = (n * (M - n)) / 2; e2[n - 1] = e[n - 1]! ** 2; }
  // Gershgorin bounds
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < M; i++) {
    const r = (i > 0 ? Math.abs(e[i - 1]!) : 0) + (i < M - 1 ? Math.abs(e[i]!) : 0);
    lo = Math.min(lo, d[i]! - r); hi = Math.max(hi, d[i]! + r);
  }
  const tapers: Float64Array[] = [];
  for (let k = 0; k < K; k++) {
    // k-th largest eigenvalue: index M-1-k in ascending order → count(<λ) = M-1-k at λ just above it
    const target = M - 1 - k;
    let a = lo, b = hi;
    for (let it = 0; it < 200 && b - a > 1e-15 * Math.max(Math.abs(a), Math.abs(b), 1); it++) {
      const mid = 0.5 * (a + b);
      if (sturmCount(d, e2, mid) > target) b = mid; else a = mid;
    }
    const lambda = 0.5 * (a + b);
    let v: Float64Array = new Float64Array(M);
    for (let i = 0; i < M; i++) v[i] = 1 + 0.1 * Math.sin(1.3 * i + k);
    for (let it = 0; it < 4; it++) {
      v = solveTridiagShifted(d, e, lambda, v);
      let nrm = 0;
      for (let i = 0; i < M; i++) nrm += v[i]! * v[i]!;
      nrm = Math.sqrt(nrm);
      for (let i = 0; i < M; i++) v[i]! /= nrm;
    }
    tapers.push(v);
  }
  // scipy's sign conventions
  for (let k = 0; k < K; k += 2) {
    let s = 0;
    for (const x of tapers[k]!) s += x;
    if (s < 0) for (let i = 0; i < M; i++) tapers[k]![i]! *= -1;
  }
  const thresh = Math.max(1e-7, 1 / M);
  for (let k = 1; k < K; k += 2) {
    const w = tapers[k]!;
    const first = w.find((x) => x * x > thresh);
    if (first !== undefined && first < 0) for (let i = 0; i < M; i++) w[i]! *= -1;
  }
  return tapers;
}

/** Multitaper one-sided PSD (equal weights over K = 2·NW − 1 tapers by default), units²/Hz. */
export function multitaperPsd(x: ArrayLike<number>, fs: number, NW = 3, K?: number, tapers?: Float64Array[], fftPlan?: RealFftPlan): { f: Float64Array; pxx: Float64Array } {
  const M = x.length;
  const tp = tapers ?? dpss(M, NW, K ?? Math.max(1, Math.floor(2 * NW - 1)));
  const nb = (M >> 1) + 1;
  const pxx = new Float64Array(nb);
  const f = new Float64Array(nb);
  for (let k = 0; k < nb; k++) f[k] = (k * fs) / M;
  let mean = 0;
  for (let i = 0; i < M; i++) mean += x[i]!;
  mean /= M;
  const seg = new Float64Array(M);
  const pw = new Float64Array(nb);
  const plan = fftPlan?.n === M ? fftPlan : new RealFftPlan(M);
  for (const t of tp) {
    for (let i = 0; i < M; i++) seg[i] = (x[i]! - mean) * t[i]!;
    plan.power(seg, pw);
    for (let k = 0; k < nb; k++) pxx[k]! += pw[k]!;
  }
  const last = M % 2 === 0 ? nb - 1 : nb;
  for (let k = 0; k < nb; k++) {
    pxx[k] = pxx[k]! / (fs * tp.length);
    if (k > 0 && k < last) pxx[k]! *= 2;
  }
  return { f, pxx };
}

// ---------------------------------------------------------------- band power
export interface Band { name: string; lo: number; hi: number }

/** Default bands, up to fast ripples; each is clipped to the stream's Nyquist, and dropped above it. */
export const DEFAULT_BANDS: readonly Band[] = [
  { name: 'delta', lo: 1, hi: 4 },
  { name: 'theta', lo: 4, hi: 8 },
  { name: 'alpha', lo: 8, hi: 13 },
  { name: 'beta', lo: 13, hi: 30 },
  { name: 'lowgamma', lo: 30, hi: 70 },
  { name: 'highgamma', lo: 70, hi: 150 },
  { name: 'ripple', lo: 80, hi: 250 },
  { name: 'fastripple', lo: 250, hi: 500 },
];

/** Bands usable at sampling rate fs: bands starting at or above Nyquist are dropped, the rest clipped to it. */
export function bandsForRate(bands: readonly Band[], fs: number): Band[] {
  const nyq = fs / 2;
  return bands.filter((b) => b.lo < nyq).map((b) => ({ ...b, hi: Math.min(b.hi, nyq) }));
}

/** Integrated power of a one-sided PSD over [lo, hi) (bins with lo ≤ f < hi; the Nyquist bin included when hi = Nyquist). */
export function bandPowerFromPsd(f: Float64Array, pxx: Float64Array, lo: number, hi: number): number {
  const df = f.length > 1 ? f[1]! - f[0]! : 0;
  const nyq = f[f.length - 1]!;
  let s = 0;
  for (let k = 0; k < f.length; k++) {
    const fk = f[k]!;
    if (fk >= lo && (fk < hi || (hi >= nyq && fk <= hi))) s += pxx[k]!;
  }
  return s * df;
}

export interface BandPowerOptions {
  bands?: readonly Band[];
  /** Analysis window, seconds (default 1). */
  windowSec?: number;
  /** Frame hop, seconds (default 0.08, the model's frame hop). */
  hopSec?: number;
  /** 'welch' (default) or 'multitaper'. */
  method?: 'welch' | 'multitaper';
  /** Welch segment length in seconds (default windowSec / 4, 50 % overlap). */
  segmentSec?: number;
  /** Multitaper time-half-bandwidth product (default 3; K = 2·NW − 1 tapers). */
  NW?: number;
  /** Floor added before the logarithm (default 1e-30). */
  floor?: number;
}

/**
 * Streaming log band power. Every `hopSec` (once a full window has been seen since the
 * start or the last reset), emits one row: for each channel × band, ln(band power) where
 * band power is the PSD integrated over the band (units²). Output chunk channels are
 * `${label}:${band}` (type 'BANDPOWER'), channel-major; srate = 1/hopSec; the timestamp of a
 * row is the timestamp of the last sample of its window.
 */
export class BandPower implements ChunkProcessor {
  private readonly o: Required<Omit<BandPowerOptions, 'bands'>> & { bands: readonly Band[] };
  private fs = 0;
  private bands: Band[] = [];
  private winN = 0;
  private hopN = 0;
  private C = -1;
  private key = '';
  private ring = new Float64Array(0); // winN × C
  private pos = 0; // next write row
  private seen = 0; // samples since reset
  private untilHop = 0;
  private tapers: Float64Array[] | undefined;
  private outChannels: ChannelInfo[] = [];
  private seg = new Float64Array(0);
  private plan: RealFftPlan | undefined; // FFT plan of the current segment size, built once

  constructor(opts: BandPowerOptions = {}) {
    this.o = {
      bands: opts.bands ?? DEFAULT_BANDS,
      windowSec: opts.windowSec ?? 1,
      hopSec: opts.hopSec ?? 0.08,
      method: opts.method ?? 'welch',
      segmentSec: opts.segmentSec ?? (opts.windowSec ?? 1) / 4,
      NW: opts.NW ?? 3,
      floor: opts.floor ?? 1e-30,
    };
  }

  /** Bands in use for the current stream (after clipping to Nyquist). */
  get activeBands(): Band[] { return this.bands; }

  reset(): void {
    this.pos = 0;
    this.seen = 0;
    this.untilHop = this.winN;
    this.ring.fill(0);
  }

  private configure(chunk: SignalChunk): void {
    this.fs = chunk.srate;
    if (!this.fs) throw new Error('bandpower: stream has no nominal rate');
    this.bands = bandsForRate(this.o.bands, this.fs);
    this.winN = Math.round(this.o.windowSec * this.fs);
    this.hopN = Math.max(1, Math.round(this.o.hopSec * this.fs));
    this.C = chunk.channels.length;
    this.key = channelKey(chunk.channels);
    this.ring = new Float64Array(this.winN * this.C);
    this.seg = new Float64Array(this.winN);
    this.tapers = this.o.method === 'multitaper' ? dpss(this.winN, this.o.NW, Math.max(1, Math.floor(2 * this.o.NW - 1))) : undefined;
    this.outChannels = [];
    for (const ch of chunk.channels) {
      for (const b of this.bands) this.outChannels.push({ label: `${ch.label}:${b.name}`, type: 'BANDPOWER', unit: `ln(${ch.unit ?? 'unit'}^2)`, pos: ch.pos, shaft: ch.shaft, contact: ch.contact });
    }
    this.reset();
  }

  /** Log band power of one window (`x`, length winN) into `out` at `off`. */
  private frame(x: Float64Array, out: Float32Array, off: number): void {
    let psd: { f: Float64Array; pxx: Float64Array };
    if (this.o.method === 'multitaper') {
      if (this.plan?.n !== x.length) this.plan = new RealFftPlan(x.length);
      psd = multitaperPsd(x, this.fs, this.o.NW, undefined, this.tapers, this.plan);
    } else {
      const nper = Math.min(this.winN, Math.max(8, Math.round(this.o.segmentSec * this.fs)));
      if (this.plan?.n !== nper) this.plan = new RealFftPlan(nper);
      psd = welch(x, { fs: this.fs, nperseg: nper, plan: this.plan });
    }
    for (let b = 0; b < this.bands.length; b++) {
      const band = this.bands[b]!;
      out[off + b] = Math.log(bandPowerFromPsd(psd.f, psd.pxx, band.lo, band.hi) + this.o.floor);
    }
  }

  process(chunk: SignalChunk): SignalChunk | null {
    if (chunk.srate !== this.fs || channelKey(chunk.channels) !== this.key) this.configure(chunk);
    const C = this.C;
    const n = nSamples(chunk);
    const nb = this.bands.length;
    const rows: Float32Array[] = [];
    const ts: number[] = [];
    const x = chunk.data;
    for (let i = 0; i < n; i++) {
      const r = this.pos * C;
      for (let c = 0; c < C; c++) this.ring[r + c] = x[i * C + c]!;
      this.pos = (this.pos + 1) % this.winN;
      this.seen++;
      if (--this.untilHop === 0) {
        this.untilHop = this.hopN;
        const row = new Float32Array(C * nb);
        for (let c = 0; c < C; c++) {
          for (let k = 0; k < this.winN; k++) this.seg[k] = this.ring[((this.pos + k) % this.winN) * C + c]!;
          this.frame(this.seg, row, c * nb);
        }
        rows.push(row);
        ts.push(chunk.timestamps[i]!);
      }
    }
    if (rows.length === 0) return null;
    const data = new Float32Array(rows.length * C * nb);
    rows.forEach((r, j) => data.set(r, j * C * nb));
    return { kind: 'signal', stream: chunk.stream, data, timestamps: Float64Array.from(ts), channels: this.outChannels, srate: 1 / this.o.hopSec };
  }
}
