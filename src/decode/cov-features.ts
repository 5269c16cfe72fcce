/**
 * Shared front end of the Riemannian decoders: optional causal band filter of the
 * window, then one spatial covariance estimate.
 */
import type { Sos } from '../dsp/design.ts';
import { sosfiltRows } from './filterbank.ts';
import { covariance, type CovEstimator } from './riemann/covariance.ts';

/** Covariance of one epoch (channels × samples) after the optional band filter. */
export function epochCovariance(x: Float64Array, C: number, N: number, sos: Sos | null, estimator: CovEstimator, labels?: string[]): Float64Array {
  return covariance(sos ? sosfiltRows(sos, x, C, N) : x, C, N, estimator, labels);
}
