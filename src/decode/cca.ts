/**
 * SSVEP detection by canonical correlation analysis (Lin et al. 2006, "Frequency
 * recognition based on canonical correlation analysis for SSVEP-based BCIs"): the
 * first canonical correlation between the window and sine/cosine references at each
 * stimulus frequency and its harmonics; the largest wins. No calibration needed.
 *
 * Filter-bank CCA (Chen et al. 2015, "Filter bank canonical correlation analysis for
 * implementing a high-speed SSVEP-based brain–computer interface"): sub-band n passes
 * [n·8, 88] Hz (their method M3, here causal Butterworth), score_k = Σ_n w(n) ρ²_{n,k}
 * with w(n) = n^(−a) + b, a = 1.25, b = 0.25.
 *
 * `probs` are the scores through a softmax with `temperature`: a ranking on the
 * simplex for the common `Decoded` shape, not calibrated probabilities.
 */
import type { Sos } from '../dsp/design.ts';
import { ClassicalDecoder, checkProfile, type ClassicalProfile } from './classical.ts';
import { assertFiniteEpochs, type Epochs } from './epochs.ts';
import { bandSos, sosfiltRows, type BandEdges } from './filterbank.ts';
import { cholSolve, softmax } from './lsqr-lda.ts';
import { cholesky, eigh, invsqrtm } from './riemann/spd.ts';

export interface CcaOptions {
  /** Stimulus frequencies (Hz), one per class. */
  freqs: number[];
  /** Class labels (default: the frequencies as strings). */
  labels?: string[];
  /** Harmonics in the references (default 3; those at or above Nyquist are left out). */
  harmonics?: number;
  /** fbcca: number of sub-bands (default 5), their edges, weights a and b. */
  subbands?: number;
  bandLow?: number;
  bandHigh?: number;
  a?: number;
  b?: number;
  order?: number;
  /** Softmax temperature of the scores (default 0.02). */
  temperature?: number;
}

/** Centre the rows of a (rows × N) block in place. */
function centreRows(x: Float64Array, R: number, N: number): Float64Array {
  for (let r = 0; r < R; r++) {
    let m = 0;
    for (let t = 0; t < N; t++) m += x[r * N + t]!;
    m /= N;
    for (let t = 0; t < N; t++) x[r * N + t]! -= m;
  }
  return x;
}

/** Sine/cosine references (2·H' × N, centred) for frequency f, H' = harmonics below Nyquist. */
export function ccaReference(f: number, harmonics: number, N: number, srate: number): { Y: Float64Array; rows: number } {
  const H = Array.from({ length: harmonics }, (_, i) => i + 1).filter((h) => h * f < srate / 2);
  if (H.length === 0) throw new Error(`CCA: ${f} Hz is at or above Nyquist (${srate / 2} Hz)`);
  const Y = new Float64Array(2 * H.length * N);
  H.forEach((h, k) => {
    for (let t = 0; t < N; t++) {
      const ph = (2 * Math.PI * h * f * t) / srate;
      Y[2 * k * N + t] = Math.sin(ph);
      Y[(2 * k + 1) * N + t] = Math.cos(ph);
    }
  });
  return { Y: centreRows(Y, 2 * H.length, N), rows: 2 * H.length };
}

/** Precomputed reference block: Y and Cyy^{-1/2}. */
interface Ref { Y: Float64Array; rows: number; cyyInvSqrt: Float64Array }

function prepareRef(f: number, harmonics: number, N: number, srate: number): Ref {
  const { Y, rows } = ccaReference(f, harmonics, N, srate);
  const Cyy = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) for (let j = i; j < rows; j++) {
    let s = 0;
    for (let t = 0; t < N; t++) s += Y[i * N + t]! * Y[j * N + t]!;
    Cyy[i * rows + j] = Cyy[j * rows + i] = s;
  }
  return { Y, rows, cyyInvSqrt: invsqrtm(Cyy, rows) };
}

/**
 * First canonical correlation between X (C × N) and Y (R × N), both centred, by the
 * closed form ρ² = λ_max(Cyy^{-1/2} Cyx Cxx⁻¹ Cxy Cyy^{-1/2}); `Lx` is the Cholesky factor of Cxx.
 */
function firstCanonical(X: Float64Array, C: number, N: number, Lx: Float64Array, ref: Ref): number {
  const R = ref.rows;
  const Cxy = new Float64Array(C * R);
  for (let c = 0; c < C; c++) for (let r = 0; r < R; r++) {
    let s = 0;
    for (let t = 0; t < N; t++) s += X[c * N + t]! * ref.Y[r * N + t]!;
    Cxy[c * R + r] = s;
  }
  const A = new Float64Array(C * R); // Cxx⁻¹ Cxy, column by column
  const col = new Float64Array(C);
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) col[c] = Cxy[c * R + r]!;
    const z = cholSolve(Lx, C, col);
    for (let c = 0; c < C; c++) A[c * R + r] = z[c]!;
  }
  const M = new Float64Array(R * R);
  for (let i = 0; i < R; i++) for (let j = 0; j < R; j++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += Cxy[c * R + i]! * A[c * R + j]!;
    M[i * R + j] = s;
  }
  const W = ref.cyyInvSqrt;
  const T = new Float64Array(R * R);
  for (let i = 0; i < R; i++) for (let j = 0; j < R; j++) {
    let s = 0;
    for (let k = 0; k < R; k++) for (let l = 0; l < R; l++) s += W[i * R + k]! * M[k * R + l]! * W[l * R + j]!;
    T[i * R + j] = s;
  }
  const { values } = eigh(T, R);
  return Math.sqrt(Math.min(1, Math.max(0, values[R - 1]!)));
}

/** First canonical correlation of X (C × N) with the references of each frequency. */
export function ccaCorrelations(x: Float64Array, C: number, N: number, srate: number, freqs: number[], harmonics = 3): number[] {
  const refs = freqs.map((f) => prepareRef(f, harmonics, N, srate));
  return correlationsWith(x, C, N, refs);
}

function correlationsWith(x: Float64Array, C: number, N: number, refs: Ref[]): number[] {
  const X = centreRows(Float64Array.from(x), C, N);
  const Cxx = new Float64Array(C * C);
  for (let i = 0; i < C; i++) for (let j = i; j < C; j++) {
    let s = 0;
    for (let t = 0; t < N; t++) s += X[i * N + t]! * X[j * N + t]!;
    Cxx[i * C + j] = Cxx[j * C + i] = s;
  }
  const Lx = cholesky(Cxx, C, 'CCA: window covariance');
  return refs.map((r) => firstCanonical(X, C, N, Lx, r));
}

/** Sub-band edges of FBCCA: [n·bandLow, bandHigh] for n = 1..subbands (high edge capped below Nyquist). */
export function fbccaBands(subbands: number, srate: number, bandLow = 8, bandHigh = 88): BandEdges[] {
  const hi = Math.min(bandHigh, 0.45 * srate);
  const out: BandEdges[] = [];
  for (let n = 1; n <= subbands; n++) {
    const lo = n * bandLow;
    if (lo >= hi) throw new Error(`FBCCA: sub-band ${n} starts at ${lo} Hz, above its upper edge ${hi} Hz at ${srate} Hz`);
    out.push([lo, hi]);
  }
  return out;
}

/** FBCCA sub-band weights w(n) = n^(−a) + b. */
export function fbccaWeights(subbands: number, a = 1.25, b = 0.25): number[] {
  return Array.from({ length: subbands }, (_, i) => (i + 1) ** -a + b);
}

export class CcaDecoder extends ClassicalDecoder {
  readonly kind: 'cca' | 'fbcca';
  private readonly o: Required<Omit<CcaOptions, 'labels'>>;
  private refs: Ref[] = [];
  private sos: Sos[] = [];
  private weights: number[] = [];

  constructor(kind: 'cca' | 'fbcca', opts: CcaOptions) {
    super();
    this.kind = kind;
    if (!opts.freqs?.length) throw new Error(`${kind}: no stimulus frequencies given`);
    this.o = {
      freqs: opts.freqs, harmonics: opts.harmonics ?? (kind === 'fbcca' ? 5 : 3), subbands: opts.subbands ?? 5, bandLow: opts.bandLow ?? 8, bandHigh: opts.bandHigh ?? 88,
      a: opts.a ?? 1.25, b: opts.b ?? 0.25, order: opts.order ?? 4, temperature: opts.temperature ?? 0.02,
    };
    this.classes = opts.labels ?? opts.freqs.map((f) => String(f));
    if (this.classes.length !== opts.freqs.length) throw new Error(`${kind}: ${opts.freqs.length} frequencies but ${this.classes.length} labels`);
  }

  /** Set the window shape (CCA needs no training data). */
  prepare(channels: number, samples: number, srate: number, channelLabels?: string[]): this {
    this.shape = { channels, samples, srate, ...(channelLabels ? { channelLabels } : {}) };
    this.refs = this.o.freqs.map((f) => prepareRef(f, this.o.harmonics, samples, srate));
    if (this.kind === 'fbcca') {
      this.sos = fbccaBands(this.o.subbands, srate, this.o.bandLow, this.o.bandHigh).map((b) => bandSos(b, srate, this.o.order));
      this.weights = fbccaWeights(this.o.subbands, this.o.a, this.o.b);
    }
    return this;
  }

  /** Only records the shape and checks the data; labels, if given, must be known classes. */
  fit(X: Epochs, y: string[] = []): this {
    assertFiniteEpochs(X);
    const unknown = y.filter((l) => !this.classes.includes(l));
    if (unknown.length) throw new Error(`${this.kind}: labels not among the stimulus classes: ${[...new Set(unknown)].join(', ')}`);
    return this.prepare(X.channels, X.samples, X.srate, X.channelLabels);
  }

  /** Scores per class: ρ (cca) or Σ w(n) ρ²_n (fbcca). */
  scores(x: Float64Array): number[] {
    const { channels: C, samples: N } = this.requireShape();
    if (this.kind === 'cca') return correlationsWith(x, C, N, this.refs);
    const out = new Array<number>(this.refs.length).fill(0);
    this.sos.forEach((s, n) => {
      const r = correlationsWith(sosfiltRows(s, x, C, N), C, N, this.refs);
      r.forEach((v, k) => (out[k]! += this.weights[n]! * v * v));
    });
    return out;
  }

  protected probsOf(x: Float64Array): number[] {
    return softmax(this.scores(x).map((s) => s / this.o.temperature));
  }

  toProfile(): ClassicalProfile<Record<string, never>> {
    return this.profile({}, { ...this.o, labels: this.classes });
  }

  static fromProfile(p: unknown): CcaDecoder {
    const q = checkProfile(p, ['cca', 'fbcca']);
    const d = new CcaDecoder(q.decoder as 'cca' | 'fbcca', q.options as unknown as CcaOptions);
    return d.prepare(q.shape.channels, q.shape.samples, q.shape.srate, q.shape.channelLabels);
  }
}
