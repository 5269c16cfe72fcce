/**
 * Tangent-space mapping of SPD matrices (Barachant et al. 2013, "Classification of
 * covariance matrices using a Riemannian-based kernel for BCI applications"):
 * S ↦ upper(log(C_ref^{-1/2} S C_ref^{-1/2})) with weight √2 on the off-diagonal
 * entries, so the Euclidean norm of the vector equals the Riemannian distance to C_ref.
 * Entry order is the row-major upper triangle (numpy `triu_indices`), as pyRiemann.
 */
import { congruence, expm, invsqrtm, karcherMean, logm, sideOf, sqrtm, type KarcherOptions } from './spd.ts';

/** Length of the tangent vector of an n × n matrix. */
export const tangentLength = (n: number): number => (n * (n + 1)) / 2;

/** Vectorise a symmetric matrix: row-major upper triangle, off-diagonal × √2. */
export function upper(T: Float64Array, n = sideOf(T)): Float64Array {
  const v = new Float64Array(tangentLength(n));
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) v[k++] = i === j ? T[i * n + j]! : Math.SQRT2 * T[i * n + j]!;
  return v;
}

/** Inverse of `upper`. */
export function unupper(v: ArrayLike<number>, n: number): Float64Array {
  if (v.length !== tangentLength(n)) throw new Error(`tangent vector of a ${n}×${n} matrix needs ${tangentLength(n)} values, got ${v.length}`);
  const T = new Float64Array(n * n);
  let k = 0;
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      const x = i === j ? v[k]! : v[k]! / Math.SQRT2;
      T[i * n + j] = x;
      T[j * n + i] = x;
      k++;
    }
  return T;
}

/** Tangent vector of S at the reference whose inverse square root is `refInvSqrt`. */
export function tangentVector(S: Float64Array, refInvSqrt: Float64Array, n = sideOf(S)): Float64Array {
  return upper(logm(congruence(refInvSqrt, S, n), n), n);
}

/** Tangent vectors of many matrices at `ref`. */
export function tangentSpace(covs: Float64Array[], ref: Float64Array): Float64Array[] {
  const n = sideOf(ref);
  const W = invsqrtm(ref, n);
  return covs.map((S) => tangentVector(S, W, n));
}

/** Back from the tangent space at `ref`: ref^{1/2} exp(unupper(v)) ref^{1/2}. */
export function untangentSpace(v: ArrayLike<number>, ref: Float64Array): Float64Array {
  const n = sideOf(ref);
  return congruence(sqrtm(ref, n), expm(unupper(v, n), n), n);
}

/**
 * Re-centre one session's matrices at the identity (Zanini et al. 2018, "Transfer
 * learning: a Riemannian geometry framework with applications to brain–computer
 * interfaces"): S ↦ M^{-1/2} S M^{-1/2} with M the session's own Karcher mean, so
 * sessions with different baselines share one reference point.
 */
export function recentre(covs: Float64Array[], opts: KarcherOptions = {}): { covs: Float64Array[]; mean: Float64Array } {
  const { mean } = karcherMean(covs, opts);
  const W = invsqrtm(mean);
  const n = sideOf(mean);
  return { covs: covs.map((S) => congruence(W, S, n)), mean };
}
