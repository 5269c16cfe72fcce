/**
 * Minimum distance to mean (Barachant et al. 2012): one Karcher mean covariance per
 * class; a window goes to the class whose mean is nearest in affine-invariant distance.
 * Probabilities are softmax(−δ²), as pyRiemann's `MDM.predict_proba`.
 */
import type { Sos } from '../dsp/design.ts';
import { ClassicalDecoder, checkProfile, type ClassicalProfile } from './classical.ts';
import { epochCovariance } from './cov-features.ts';
import { checkTrainingSet, trial, type Epochs } from './epochs.ts';
import { bandSos, type BandEdges } from './filterbank.ts';
import { softmax } from './lsqr-lda.ts';
import type { CovEstimator } from './riemann/covariance.ts';
import { distanceFromInvSqrt, invsqrtm, karcherMean } from './riemann/spd.ts';

export interface MdmOptions {
  /** Causal band-pass of each window (Hz; default [8, 30]); `null` = none. */
  band?: BandEdges | null;
  order?: number;
  estimator?: CovEstimator;
}

export class MdmDecoder extends ClassicalDecoder {
  readonly kind = 'mdm' as const;
  private readonly band: BandEdges | null;
  private readonly order: number;
  private readonly estimator: CovEstimator;
  private sos: Sos | null = null;
  private means: Float64Array[] = [];
  private invSqrt: Float64Array[] = [];

  constructor(opts: MdmOptions = {}) {
    super();
    this.band = opts.band === undefined ? [8, 30] : opts.band;
    this.order = opts.order ?? 4;
    this.estimator = opts.estimator ?? 'lwf';
  }

  covariance(x: Float64Array): Float64Array {
    const s = this.requireShape();
    return epochCovariance(x, s.channels, s.samples, this.sos, this.estimator, s.channelLabels);
  }

  fit(X: Epochs, y: string[]): this {
    this.classes = checkTrainingSet(X, y, this.kind);
    this.sos = this.band ? bandSos(this.band, X.srate, this.order) : null;
    this.setShape(X);
    const covs = Array.from({ length: X.trials }, (_, i) => this.covariance(trial(X, i)));
    this.means = this.classes.map((c) => karcherMean(covs.filter((_, i) => y[i] === c)).mean);
    this.invSqrt = this.means.map((m) => invsqrtm(m));
    return this;
  }

  /** Riemannian distance of one epoch's covariance to each class mean. */
  distances(x: Float64Array): number[] {
    const S = this.covariance(x);
    return this.invSqrt.map((W) => distanceFromInvSqrt(W, S, this.shape!.channels));
  }

  protected probsOf(x: Float64Array): number[] {
    return softmax(this.distances(x).map((d) => -d * d));
  }

  toProfile(): ClassicalProfile<{ means: number[][] }> {
    if (!this.means.length) throw new Error('mdm decoder is not fitted');
    return this.profile({ means: this.means.map((m) => [...m]) }, { band: this.band, order: this.order, estimator: this.estimator });
  }

  static fromProfile(p: unknown): MdmDecoder {
    const q = checkProfile(p, ['mdm']) as ClassicalProfile<{ means: number[][] }>;
    const d = new MdmDecoder(q.options as MdmOptions);
    d.classes = q.classes;
    d.shape = q.shape;
    d.sos = d.band ? bandSos(d.band, q.shape.srate, d.order) : null;
    d.means = q.params.means.map((m) => Float64Array.from(m));
    d.invSqrt = d.means.map((m) => invsqrtm(m));
    return d;
  }
}
