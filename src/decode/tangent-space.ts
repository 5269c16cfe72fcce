/**
 * Tangent-space logistic regression (Barachant et al. 2013): covariance of each window
 * (Ledoit–Wolf by default), mapped to the tangent space at the Karcher mean of the
 * training covariances, classified by L2 logistic regression — the "TS+LR" pipeline
 * that leads the MOABB motor-imagery benchmarks (Jayaram & Barachant 2018).
 */
import type { Sos } from '../dsp/design.ts';
import { ClassicalDecoder, checkProfile, type ClassicalProfile } from './classical.ts';
import { epochCovariance } from './cov-features.ts';
import { checkTrainingSet, trial, type Epochs } from './epochs.ts';
import { bandSos, type BandEdges } from './filterbank.ts';
import { fitLogReg, logRegProba, type LogRegModel } from './logreg.ts';
import type { CovEstimator } from './riemann/covariance.ts';
import { invsqrtm, karcherMean } from './riemann/spd.ts';
import { tangentVector } from './riemann/tangent.ts';

export interface TangentSpaceOptions {
  /** Causal band-pass of each window (Hz; default [8, 30]); `null` = none. */
  band?: BandEdges | null;
  order?: number;
  estimator?: CovEstimator;
  /** Logistic-regression C (default 1). */
  C?: number;
}

interface TsParams {
  reference: number[];
  logreg: LogRegModel;
}

export class TangentSpaceDecoder extends ClassicalDecoder {
  readonly kind = 'ts-lr' as const;
  private readonly band: BandEdges | null;
  private readonly order: number;
  private readonly estimator: CovEstimator;
  private readonly C: number;
  private sos: Sos | null = null;
  private refInvSqrt: Float64Array | undefined;
  private params: TsParams | undefined;

  constructor(opts: TangentSpaceOptions = {}) {
    super();
    this.band = opts.band === undefined ? [8, 30] : opts.band;
    this.order = opts.order ?? 4;
    this.estimator = opts.estimator ?? 'lwf';
    this.C = opts.C ?? 1;
  }

  /** Covariance of one epoch as this decoder computes it. */
  covariance(x: Float64Array): Float64Array {
    const s = this.requireShape();
    return epochCovariance(x, s.channels, s.samples, this.sos, this.estimator, s.channelLabels);
  }

  /** Tangent vector of one epoch at the training reference. */
  tangent(x: Float64Array): Float64Array {
    return tangentVector(this.covariance(x), this.refInvSqrt!, this.shape!.channels);
  }

  fit(X: Epochs, y: string[]): this {
    this.classes = checkTrainingSet(X, y, this.kind);
    this.sos = this.band ? bandSos(this.band, X.srate, this.order) : null;
    this.setShape(X);
    const covs = Array.from({ length: X.trials }, (_, i) => this.covariance(trial(X, i)));
    const ref = karcherMean(covs).mean;
    this.refInvSqrt = invsqrtm(ref);
    const T = covs.map((S) => tangentVector(S, this.refInvSqrt!, X.channels));
    this.params = { reference: [...ref], logreg: fitLogReg(T, y, { C: this.C }, this.classes) };
    return this;
  }

  protected probsOf(x: Float64Array): number[] {
    return logRegProba(this.params!.logreg, this.tangent(x));
  }

  toProfile(): ClassicalProfile<TsParams> {
    if (!this.params) throw new Error('ts-lr decoder is not fitted');
    return this.profile(this.params, { band: this.band, order: this.order, estimator: this.estimator, C: this.C });
  }

  static fromProfile(p: unknown): TangentSpaceDecoder {
    const q = checkProfile(p, ['ts-lr']) as ClassicalProfile<TsParams>;
    const d = new TangentSpaceDecoder(q.options as TangentSpaceOptions);
    d.classes = q.classes;
    d.shape = q.shape;
    d.sos = d.band ? bandSos(d.band, q.shape.srate, d.order) : null;
    d.params = q.params;
    d.refInvSqrt = invsqrtm(Float64Array.from(q.params.reference));
    return d;
  }
}
