/**
 * xDAWN spatial filtering for ERPs (Rivet et al. 2009, "xDAWN algorithm to enhance
 * evoked potentials"), as pyRiemann's `Xdawn`: per class, the generalised eigenvectors
 * of (cov of the class-average response, cov of all trials concatenated), largest
 * first, each scaled to unit norm; `nFilter` kept per class.
 *
 * Two decoders on top:
 * - `xdawn-lda`: the filtered epoch, averaged in `bins` time bins → LDA.
 * - `xdawn-ts`: pyRiemann's `XdawnCovariances` super-trial — the class prototypes
 *   (filtered averages) stacked over the filtered trial — its covariance, tangent space
 *   at the Karcher mean, logistic regression (Barachant & Congedo 2014).
 * For spellers, average the repetitions of one stimulus first (`averageRepetitions`).
 */
import type { Sos } from '../dsp/design.ts';
import { ClassicalDecoder, checkProfile, type ClassicalProfile } from './classical.ts';
import { checkTrainingSet, trial, type Epochs } from './epochs.ts';
import { bandSos, sosfiltRows, type BandEdges } from './filterbank.ts';
import { fitLogReg, logRegProba, type LogRegModel } from './logreg.ts';
import { fitLsqrLda, ldaScores, softmax, type LsqrLdaModel } from './lsqr-lda.ts';
import { covariance, type CovEstimator } from './riemann/covariance.ts';
import { geneigh, invsqrtm, karcherMean } from './riemann/spd.ts';
import { tangentVector } from './riemann/tangent.ts';

export interface XdawnOptions {
  /** Filters per class (default 4). */
  nFilter?: number;
  /** Optional causal band-pass of each window (Hz); default none (the ERP band-pass runs upstream). */
  band?: BandEdges | null;
  order?: number;
  /**
   * xdawn-lda: mean amplitude in this many consecutive time bins (default 10, as
   * `erp-features.ts`); 0 = every sample (features = classes × nFilter × samples, so
   * only for short, low-rate epochs: LDA's covariance grows with the square).
   */
  bins?: number;
  /** xdawn-ts: covariance estimator of the super-trial (default 'lwf'). */
  estimator?: CovEstimator;
  /** xdawn-ts: logistic-regression C (default 1). */
  C?: number;
}

/** xDAWN filters: per class, nFilter rows × channels, plus the class prototypes (nFilter × samples). */
export interface XdawnFilters {
  filters: number[][][];
  evokeds: number[][][];
}

/** Fit xDAWN filters on epochs (channels × samples each). */
export function xdawnFilters(trials: Float64Array[], y: string[], classes: string[], C: number, N: number, nFilter: number, labels?: string[]): XdawnFilters {
  const all = new Float64Array(C * N * trials.length);
  // concatenated trials as channels × (trials·samples), for the signal covariance
  trials.forEach((x, k) => { for (let c = 0; c < C; c++) all.set(x.subarray(c * N, (c + 1) * N), c * N * trials.length + k * N); });
  const Cx = covariance(all, C, N * trials.length, 'scm', labels);
  const filters: number[][][] = [];
  const evokeds: number[][][] = [];
  for (const cls of classes) {
    const P = new Float64Array(C * N);
    let n = 0;
    trials.forEach((x, k) => { if (y[k] === cls) (n++, x.forEach((v, i) => (P[i]! += v))); });
    for (let i = 0; i < P.length; i++) P[i]! /= n;
    const e = geneigh(centredCov(P, C, N), Cx, C, 'xDAWN signal covariance');
    const rows: number[][] = [];
    for (let f = 0; f < nFilter; f++) {
      const k = C - 1 - f; // eigenvalues ascend
      const w = Array.from({ length: C }, (_, i) => e.vectors[i * C + k]!);
      const norm = Math.sqrt(w.reduce((a, v) => a + v * v, 0));
      rows.push(w.map((v) => v / norm));
    }
    filters.push(rows);
    evokeds.push(rows.map((w) => Array.from(applyFilter(w, P, C, N))));
  }
  return { filters, evokeds };
}

function centredCov(P: Float64Array, C: number, N: number): Float64Array {
  const m = new Float64Array(C);
  for (let c = 0; c < C; c++) { for (let t = 0; t < N; t++) m[c]! += P[c * N + t]!; m[c]! /= N; }
  const S = new Float64Array(C * C);
  for (let i = 0; i < C; i++) for (let j = i; j < C; j++) {
    let s = 0;
    for (let t = 0; t < N; t++) s += (P[i * N + t]! - m[i]!) * (P[j * N + t]! - m[j]!);
    S[i * C + j] = S[j * C + i] = s / N;
  }
  return S;
}

function applyFilter(w: ArrayLike<number>, x: Float64Array, C: number, N: number): Float64Array {
  const z = new Float64Array(N);
  for (let c = 0; c < C; c++) { const wc = w[c]!; for (let t = 0; t < N; t++) z[t]! += wc * x[c * N + t]!; }
  return z;
}

/** All classes' filters applied to one epoch: (classes·nFilter) × samples. */
export function xdawnTransform(f: XdawnFilters, x: Float64Array, C: number, N: number): Float64Array {
  const rows = f.filters.flat();
  const out = new Float64Array(rows.length * N);
  rows.forEach((w, r) => out.set(applyFilter(w, x, C, N), r * N));
  return out;
}

interface XdawnParams extends XdawnFilters {
  lda?: LsqrLdaModel;
  reference?: number[];
  logreg?: LogRegModel;
}

export class XdawnDecoder extends ClassicalDecoder {
  readonly kind: 'xdawn-lda' | 'xdawn-ts';
  private readonly opts: Required<Omit<XdawnOptions, 'bins' | 'band'>> & { bins: number | null; band: BandEdges | null };
  private sos: Sos | null = null;
  private params: XdawnParams | undefined;
  private refInvSqrt: Float64Array | undefined;

  constructor(kind: 'xdawn-lda' | 'xdawn-ts' = 'xdawn-lda', opts: XdawnOptions = {}) {
    super();
    this.kind = kind;
    this.opts = { nFilter: opts.nFilter ?? 4, band: opts.band ?? null, order: opts.order ?? 4, bins: opts.bins === 0 ? null : (opts.bins ?? 10), estimator: opts.estimator ?? 'lwf', C: opts.C ?? 1 };
  }

  private prep(x: Float64Array): Float64Array {
    const s = this.requireShape();
    return this.sos ? sosfiltRows(this.sos, x, s.channels, s.samples) : x;
  }

  /** xdawn-lda features of a prepared epoch. */
  private ldaFeatures(x: Float64Array): Float64Array {
    const { channels: C, samples: N } = this.shape!;
    const z = xdawnTransform(this.params!, x, C, N);
    const bins = this.opts.bins;
    if (!bins) return z;
    const R = z.length / N;
    const out = new Float64Array(R * bins);
    for (let r = 0; r < R; r++)
      for (let b = 0; b < bins; b++) {
        const a = Math.floor((N * b) / bins), e = Math.floor((N * (b + 1)) / bins);
        let s = 0;
        for (let t = a; t < e; t++) s += z[r * N + t]!;
        out[r * bins + b] = s / Math.max(1, e - a);
      }
    return out;
  }

  /** Covariance of the super-trial [prototypes; filtered epoch] of a prepared epoch. */
  superTrialCovariance(x: Float64Array): Float64Array {
    const { channels: C, samples: N } = this.shape!;
    const z = xdawnTransform(this.params!, x, C, N);
    const proto = this.params!.evokeds.flat();
    const R = proto.length + z.length / N;
    const st = new Float64Array(R * N);
    proto.forEach((row, r) => st.set(row, r * N));
    st.set(z, proto.length * N);
    return covariance(st, R, N, this.opts.estimator);
  }

  fit(X: Epochs, y: string[]): this {
    this.classes = checkTrainingSet(X, y, this.kind);
    if (this.opts.nFilter > X.channels) throw new Error(`${this.kind}: ${this.opts.nFilter} filters asked for but only ${X.channels} channels`);
    this.sos = this.opts.band ? bandSos(this.opts.band, X.srate, this.opts.order) : null;
    this.setShape(X);
    const trials = Array.from({ length: X.trials }, (_, i) => this.prep(trial(X, i)));
    this.params = xdawnFilters(trials, y, this.classes, X.channels, X.samples, this.opts.nFilter, X.channelLabels);
    if (this.kind === 'xdawn-lda') {
      this.params.lda = fitLsqrLda(trials.map((t) => this.ldaFeatures(t)), y, this.classes);
    } else {
      const covs = trials.map((t) => this.superTrialCovariance(t));
      const ref = karcherMean(covs).mean;
      this.refInvSqrt = invsqrtm(ref);
      this.params.reference = [...ref];
      this.params.logreg = fitLogReg(covs.map((S) => tangentVector(S, this.refInvSqrt!)), y, { C: this.opts.C }, this.classes);
    }
    return this;
  }

  /** xDAWN filters per class (rows × channels). */
  get filters(): number[][][] {
    if (!this.params) throw new Error(`${this.kind} decoder is not fitted`);
    return this.params.filters;
  }

  protected probsOf(x: Float64Array): number[] {
    const p = this.prep(x);
    if (this.kind === 'xdawn-lda') return softmax(ldaScores(this.params!.lda!, this.ldaFeatures(p)));
    return logRegProba(this.params!.logreg!, tangentVector(this.superTrialCovariance(p), this.refInvSqrt!));
  }

  toProfile(): ClassicalProfile<XdawnParams> {
    if (!this.params) throw new Error(`${this.kind} decoder is not fitted`);
    return this.profile(this.params, { ...this.opts });
  }

  static fromProfile(p: unknown): XdawnDecoder {
    const q = checkProfile(p, ['xdawn-lda', 'xdawn-ts']) as ClassicalProfile<XdawnParams>;
    const o = q.options as unknown as XdawnOptions & { bins: number | null };
    const d = new XdawnDecoder(q.decoder as 'xdawn-lda' | 'xdawn-ts', { ...o, bins: o.bins ?? 0 });
    d.classes = q.classes;
    d.shape = q.shape;
    d.sos = d.opts.band ? bandSos(d.opts.band, q.shape.srate, d.opts.order) : null;
    d.params = q.params;
    if (q.params.reference) d.refInvSqrt = invsqrtm(Float64Array.from(q.params.reference));
    return d;
  }
}
