/**
 * Common spatial patterns for motor imagery (Ramoser, Müller-Gerking & Pfurtscheller
 * 2000; Blankertz et al. 2008), as MNE's `mne.decoding.CSP(log=True, norm_trace=False,
 * cov_est='concat', component_order='mutual_info')` for two classes: class covariances
 * of the concatenated trials (X Xᵀ / (samples − 1), not centred — what MNE's 'empirical'
 * estimate gives here), filters
 * from `eigh(Σ₁, Σ₁ + Σ₂)`, ordered by |λ − ½| descending, features log(mean(z²)),
 * classified by shrinkage LDA (`lsqr-lda.ts`).
 *
 * Filter-bank CSP (Ang et al. 2008, "Filter bank common spatial pattern (FBCSP) in
 * brain-computer interface"): the same per band of a causal Butterworth bank, features
 * concatenated. The decoders filter each window themselves (see `filterbank.ts`).
 */
import { bandSos, sosfiltRows, type BandEdges } from './filterbank.ts';
import { checkTrainingSet, trial, type Epochs } from './epochs.ts';
import { ClassicalDecoder, checkProfile, type ClassicalProfile } from './classical.ts';
import { fitLsqrLda, ldaScores, softmax, type LsqrLdaModel } from './lsqr-lda.ts';
import { geneigh } from './riemann/spd.ts';
import type { Sos } from '../dsp/design.ts';

export interface CspOptions {
  /** Pass bands (Hz). Default csp: [[8, 30]]; fbcsp: 4-Hz bands from 4 to 40 Hz. `null` = no filtering. */
  bands?: BandEdges[] | null;
  /** Butterworth order of each band (default 4). */
  order?: number;
  /** CSP components kept per band (default 4, as MNE). */
  nComponents?: number;
}

/** FBCSP bands of Ang et al. 2008: 4–8, 8–12, …, 36–40 Hz. */
export const FBCSP_BANDS: BandEdges[] = Array.from({ length: 9 }, (_, i) => [4 + 4 * i, 8 + 4 * i] as BandEdges);

interface CspParams {
  /** Per band: nComponents × channels filter rows. */
  filters: number[][][];
  eigenvalues: number[][];
  lda: LsqrLdaModel;
}

/** CSP filters of two-class epochs (channels × samples each), MNE order. */
export function cspFilters(trials: Float64Array[], y: string[], classes: string[], C: number, N: number): { filters: Float64Array[]; eigenvalues: Float64Array } {
  if (classes.length !== 2) throw new Error(`CSP supports 2 classes, got ${classes.length} (${classes.join(', ')})`);
  const covs = classes.map((c) => {
    const S = new Float64Array(C * C);
    let n = 0;
    trials.forEach((x, k) => {
      if (y[k] !== c) return;
      n += N;
      for (let i = 0; i < C; i++)
        for (let j = i; j < C; j++) {
          let s = 0;
          for (let t = 0; t < N; t++) s += x[i * N + t]! * x[j * N + t]!;
          S[i * C + j]! += s;
        }
    });
    for (let i = 0; i < C; i++) for (let j = i; j < C; j++) S[j * C + i] = S[i * C + j] = S[i * C + j]! / (n - 1);
    return S;
  });
  const sum = covs[0]!.map((v, i) => v + covs[1]![i]!);
  const e = geneigh(covs[0]!, sum, C, 'CSP composite covariance');
  const order = Array.from({ length: C }, (_, k) => k).sort((a, b) => Math.abs(e.values[b]! - 0.5) - Math.abs(e.values[a]! - 0.5));
  return {
    filters: order.map((k) => Float64Array.from({ length: C }, (_, i) => e.vectors[i * C + k]!)),
    eigenvalues: Float64Array.from(order, (k) => e.values[k]!),
  };
}

/** log(mean((w·x)²)) for each filter row w. */
export function logPower(filters: ArrayLike<number>[], x: Float64Array, C: number, N: number): Float64Array {
  const out = new Float64Array(filters.length);
  const z = new Float64Array(N);
  filters.forEach((w, f) => {
    z.fill(0);
    for (let c = 0; c < C; c++) {
      const wc = w[c]!;
      if (wc === 0) continue;
      const o = c * N;
      for (let t = 0; t < N; t++) z[t]! += wc * x[o + t]!;
    }
    let s = 0;
    for (let t = 0; t < N; t++) s += z[t]! * z[t]!;
    out[f] = Math.log(s / N);
  });
  return out;
}

/** CSP + LDA (`kind` 'csp', one band) or FBCSP + LDA (`kind` 'fbcsp', a filter bank). */
export class CspDecoder extends ClassicalDecoder {
  readonly kind: 'csp' | 'fbcsp';
  private readonly bands: BandEdges[] | null;
  private readonly order: number;
  private readonly nComponents: number;
  private sos: Sos[] = [];
  private params: CspParams | undefined;

  constructor(kind: 'csp' | 'fbcsp' = 'csp', opts: CspOptions = {}) {
    super();
    this.kind = kind;
    this.bands = opts.bands === undefined ? (kind === 'csp' ? [[8, 30]] : FBCSP_BANDS) : opts.bands;
    this.order = opts.order ?? 4;
    this.nComponents = opts.nComponents ?? 4;
  }

  /** Band-filtered copies of one epoch, one per band (the epoch itself when unfiltered). */
  private banded(x: Float64Array, C: number, N: number): Float64Array[] {
    return this.bands ? this.sos.map((s) => sosfiltRows(s, x, C, N)) : [x];
  }

  fit(X: Epochs, y: string[]): this {
    this.classes = checkTrainingSet(X, y, this.kind);
    const { channels: C, samples: N } = X;
    if (this.nComponents > C) throw new Error(`${this.kind}: ${this.nComponents} components asked for but only ${C} channels`);
    this.sos = (this.bands ?? []).map((b) => bandSos(b, X.srate, this.order));
    this.setShape(X);
    const perTrial = Array.from({ length: X.trials }, (_, i) => this.banded(trial(X, i), C, N));
    const nb = perTrial[0]!.length;
    const filters: number[][][] = [];
    const eigenvalues: number[][] = [];
    for (let b = 0; b < nb; b++) {
      const r = cspFilters(perTrial.map((t) => t[b]!), y, this.classes, C, N);
      filters.push(r.filters.slice(0, this.nComponents).map((f) => [...f]));
      eigenvalues.push([...r.eigenvalues]);
    }
    const feats = perTrial.map((bands) => this.featuresOfBands(bands, filters, C, N));
    this.params = { filters, eigenvalues, lda: fitLsqrLda(feats, y, this.classes) };
    return this;
  }

  private featuresOfBands(bands: Float64Array[], filters: number[][][], C: number, N: number): Float64Array {
    const out = new Float64Array(bands.length * this.nComponents);
    bands.forEach((xb, b) => out.set(logPower(filters[b]!, xb, C, N), b * this.nComponents));
    return out;
  }

  /** Log-power features of one epoch (bands × components). */
  features(x: Float64Array): Float64Array {
    const s = this.requireShape();
    return this.featuresOfBands(this.banded(x, s.channels, s.samples), this.params!.filters, s.channels, s.samples);
  }

  /** Spatial filters of band `b` (rows = components). */
  filters(b = 0): number[][] {
    if (!this.params) throw new Error(`${this.kind} decoder is not fitted`);
    return this.params.filters[b]!;
  }

  protected probsOf(x: Float64Array): number[] {
    return softmax(ldaScores(this.params!.lda, this.features(x)));
  }

  toProfile(): ClassicalProfile<CspParams> {
    if (!this.params) throw new Error(`${this.kind} decoder is not fitted`);
    return this.profile(this.params, { bands: this.bands, order: this.order, nComponents: this.nComponents });
  }

  static fromProfile(p: unknown): CspDecoder {
    const q = checkProfile(p, ['csp', 'fbcsp']) as ClassicalProfile<CspParams>;
    const o = q.options as { bands: BandEdges[] | null; order: number; nComponents: number };
    const d = new CspDecoder(q.decoder as 'csp' | 'fbcsp', o);
    d.classes = q.classes;
    d.shape = q.shape;
    d.sos = (o.bands ?? []).map((b) => bandSos(b, q.shape.srate, o.order));
    d.params = q.params;
    return d;
  }
}
