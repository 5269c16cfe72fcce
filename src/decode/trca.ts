/**
 * Task-related component analysis for SSVEP (Nakanishi et al. 2018, "Enhancing
 * detection of SSVEPs for a high-speed brain speller using task-related component
 * analysis", IEEE TBME 65:104): per class, the spatial filter w maximising the
 * covariance between trials, wᵀSw / wᵀQw with S = Σ_{h≠h'} X_h X_{h'}ᵀ and
 * Q = Σ_h X_h X_hᵀ (trials centred per channel); a window is scored by Pearson's r
 * between the filtered window and each class template (mean training trial).
 * Ensemble TRCA (default) stacks every class's filter into one W.
 */
import type { Sos } from '../dsp/design.ts';
import { ClassicalDecoder, checkProfile, type ClassicalProfile } from './classical.ts';
import { checkTrainingSet, trial, type Epochs } from './epochs.ts';
import { bandSos, sosfiltRows, type BandEdges } from './filterbank.ts';
import { softmax } from './lsqr-lda.ts';
import { geneigh } from './riemann/spd.ts';

export interface TrcaOptions {
  /** Ensemble TRCA (default true). */
  ensemble?: boolean;
  /** Optional causal band-pass of each window (Hz); default none. */
  band?: BandEdges | null;
  order?: number;
  /** Softmax temperature of the correlations (default 0.02). */
  temperature?: number;
}

interface TrcaParams {
  /** Per class: spatial filter (channels). */
  filters: number[][];
  /** Per class: template, channels × samples. */
  templates: number[][];
}

function centred(x: Float64Array, C: number, N: number): Float64Array {
  const z = Float64Array.from(x);
  for (let c = 0; c < C; c++) {
    let m = 0;
    for (let t = 0; t < N; t++) m += z[c * N + t]!;
    m /= N;
    for (let t = 0; t < N; t++) z[c * N + t]! -= m;
  }
  return z;
}

/** TRCA filter of one class's trials (each channels × samples). */
export function trcaFilter(trials: Float64Array[], C: number, N: number): Float64Array {
  const Z = trials.map((x) => centred(x, C, N));
  const sum = new Float64Array(C * N);
  for (const z of Z) for (let i = 0; i < sum.length; i++) sum[i]! += z[i]!;
  const Q = new Float64Array(C * C);
  const S = new Float64Array(C * C);
  for (let i = 0; i < C; i++) for (let j = i; j < C; j++) {
    let q = 0;
    for (const z of Z) for (let t = 0; t < N; t++) q += z[i * N + t]! * z[j * N + t]!;
    let s = 0;
    for (let t = 0; t < N; t++) s += sum[i * N + t]! * sum[j * N + t]!;
    Q[i * C + j] = Q[j * C + i] = q;
    S[i * C + j] = S[j * C + i] = s - q;
  }
  const e = geneigh(S, Q, C, 'TRCA trial covariance');
  return Float64Array.from({ length: C }, (_, i) => e.vectors[i * C + C - 1]!);
}

function project(W: number[][], x: ArrayLike<number>, C: number, N: number): Float64Array {
  const out = new Float64Array(W.length * N);
  W.forEach((w, r) => { for (let c = 0; c < C; c++) { const v = w[c]!; for (let t = 0; t < N; t++) out[r * N + t]! += v * x[c * N + t]!; } });
  return out;
}

function pearson(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) (ma += a[i]!), (mb += b[i]!);
  ma /= n, mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - ma, y = b[i]! - mb;
    sab += x * y, saa += x * x, sbb += y * y;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

export class TrcaDecoder extends ClassicalDecoder {
  readonly kind = 'trca' as const;
  private readonly ensemble: boolean;
  private readonly band: BandEdges | null;
  private readonly order: number;
  private readonly temperature: number;
  private sos: Sos | null = null;
  private params: TrcaParams | undefined;

  constructor(opts: TrcaOptions = {}) {
    super();
    this.ensemble = opts.ensemble ?? true;
    this.band = opts.band ?? null;
    this.order = opts.order ?? 4;
    this.temperature = opts.temperature ?? 0.02;
  }

  private prep(x: Float64Array): Float64Array {
    const s = this.requireShape();
    return this.sos ? sosfiltRows(this.sos, x, s.channels, s.samples) : x;
  }

  fit(X: Epochs, y: string[]): this {
    this.classes = checkTrainingSet(X, y, this.kind);
    this.sos = this.band ? bandSos(this.band, X.srate, this.order) : null;
    this.setShape(X);
    const { channels: C, samples: N } = X;
    const trials = Array.from({ length: X.trials }, (_, i) => this.prep(trial(X, i)));
    const filters: number[][] = [];
    const templates: number[][] = [];
    for (const c of this.classes) {
      const mine = trials.filter((_, i) => y[i] === c);
      filters.push([...trcaFilter(mine, C, N)]);
      const m = new Float64Array(C * N);
      for (const t of mine) for (let i = 0; i < m.length; i++) m[i]! += t[i]! / mine.length;
      templates.push([...m]);
    }
    this.params = { filters, templates };
    return this;
  }

  /** Pearson correlation with each class template after the (ensemble) TRCA filter. */
  correlations(x: Float64Array): number[] {
    const { channels: C, samples: N } = this.requireShape();
    const p = this.prep(x);
    const { filters, templates } = this.params!;
    return templates.map((tpl, k) => {
      const W = this.ensemble ? filters : [filters[k]!];
      return pearson(project(W, p, C, N), project(W, tpl, C, N));
    });
  }

  protected probsOf(x: Float64Array): number[] {
    return softmax(this.correlations(x).map((r) => r / this.temperature));
  }

  toProfile(): ClassicalProfile<TrcaParams> {
    if (!this.params) throw new Error('trca decoder is not fitted');
    return this.profile(this.params, { ensemble: this.ensemble, band: this.band, order: this.order, temperature: this.temperature });
  }

  static fromProfile(p: unknown): TrcaDecoder {
    const q = checkProfile(p, ['trca']) as ClassicalProfile<TrcaParams>;
    const d = new TrcaDecoder(q.options as TrcaOptions);
    d.classes = q.classes;
    d.shape = q.shape;
    d.sos = d.band ? bandSos(d.band, q.shape.srate, d.order) : null;
    d.params = q.params;
    return d;
  }
}
