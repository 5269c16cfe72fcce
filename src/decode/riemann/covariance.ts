/**
 * Spatial covariance estimates of one epoch (channels × samples, row-major), as
 * scikit-learn's `empirical_covariance`, `ledoit_wolf` and `oas` applied to the
 * samples × channels transpose (centred, divided by the number of samples).
 *
 * Shrinkage (Ledoit & Wolf 2004; Chen, Wiesel, Eldar & Hero 2010 for OAS) keeps the
 * estimate positive definite when channels are flat or duplicated; the plain sample
 * covariance instead refuses such input with an error naming the channels.
 */

/** Which covariance estimator to use. */
export type CovEstimator = 'scm' | 'lwf' | 'oas';

/** A covariance estimate with the shrinkage applied (0 for the sample covariance). */
export interface CovEstimate {
  cov: Float64Array;
  shrinkage: number;
}

function centred(X: ArrayLike<number>, C: number, N: number): Float64Array {
  if (X.length !== C * N) throw new Error(`covariance: expected ${C}×${N} values, got ${X.length}`);
  if (N < 2) throw new Error(`covariance: need at least 2 samples, got ${N}`);
  const Z = new Float64Array(C * N);
  for (let c = 0; c < C; c++) {
    let m = 0;
    for (let t = 0; t < N; t++) m += X[c * N + t]!;
    m /= N;
    for (let t = 0; t < N; t++) Z[c * N + t] = X[c * N + t]! - m;
  }
  return Z;
}

function gram(Z: Float64Array, C: number, N: number): Float64Array {
  const S = new Float64Array(C * C);
  for (let i = 0; i < C; i++)
    for (let j = i; j < C; j++) {
      let s = 0;
      const a = i * N;
      const b = j * N;
      for (let t = 0; t < N; t++) s += Z[a + t]! * Z[b + t]!;
      S[i * C + j] = s / N;
      S[j * C + i] = s / N;
    }
  return S;
}

function checkFinite(X: ArrayLike<number>, C: number, N: number, labels?: string[]): void {
  for (let c = 0; c < C; c++)
    for (let t = 0; t < N; t++)
      if (!Number.isFinite(X[c * N + t]!)) throw new Error(`covariance: channel ${channelName(c, labels)} has a non-finite value (${X[c * N + t]}) at sample ${t}`);
}

function channelName(c: number, labels?: string[]): string {
  return labels?.[c] ? `${c} (${labels[c]})` : `${c}`;
}

/**
 * Sample covariance (centred, /N). Throws when it is singular, naming a flat channel
 * or a pair of (near-)duplicated channels — use 'lwf' or 'oas' for such data.
 */
export function sampleCovariance(X: ArrayLike<number>, C: number, N: number, labels?: string[]): Float64Array {
  checkFinite(X, C, N, labels);
  const S = gram(centred(X, C, N), C, N);
  assertInvertible(S, C, labels);
  return S;
}

/** Throws a clear error when covariance S is singular: names flat channels, duplicated pairs, or the rank problem. */
export function assertInvertible(S: Float64Array, C: number, labels?: string[]): void {
  let maxVar = 0;
  for (let i = 0; i < C; i++) maxVar = Math.max(maxVar, S[i * C + i]!);
  for (let i = 0; i < C; i++)
    if (!(S[i * C + i]! > maxVar * 1e-14)) throw new Error(`singular covariance: channel ${channelName(i, labels)} is flat (zero variance); use a shrinkage estimator ('lwf' or 'oas') or drop the channel`);
  for (let i = 0; i < C; i++)
    for (let j = i + 1; j < C; j++) {
      const r = S[i * C + j]! / Math.sqrt(S[i * C + i]! * S[j * C + j]!);
      if (Math.abs(r) > 1 - 1e-10) throw new Error(`singular covariance: channels ${channelName(i, labels)} and ${channelName(j, labels)} are duplicates (correlation ${r.toFixed(12)}); use a shrinkage estimator ('lwf' or 'oas') or drop one`);
    }
  // Cholesky as the final test: catches rank deficiency that no pair shows (e.g. more channels than samples).
  const L = new Float64Array(C * C);
  for (let i = 0; i < C; i++)
    for (let j = 0; j <= i; j++) {
      let s = S[i * C + j]!;
      for (let k = 0; k < j; k++) s -= L[i * C + k]! * L[j * C + k]!;
      if (i === j) {
        if (!(s > S[i * C + i]! * 1e-12)) throw new Error(`singular covariance: channel ${channelName(i, labels)} is a linear combination of earlier channels (rank-deficient data, e.g. common-average referenced or fewer samples than channels); use a shrinkage estimator ('lwf' or 'oas')`);
        L[i * C + i] = Math.sqrt(s);
      } else L[i * C + j] = s / L[j * C + j]!;
    }
}

/** Ledoit–Wolf shrunk covariance, ≙ sklearn `ledoit_wolf(X.T)` (same shrinkage formula). */
export function ledoitWolfCovariance(X: ArrayLike<number>, C: number, N: number, labels?: string[]): CovEstimate {
  checkFinite(X, C, N, labels);
  const Z = centred(X, C, N);
  const S = gram(Z, C, N);
  if (C === 1) return { cov: S, shrinkage: 0 };
  let tr = 0;
  for (let i = 0; i < C; i++) tr += S[i * C + i]!;
  const mu = tr / C;
  // β' = Σ_t (Σ_i z_ti²)², δ' = ‖S‖²_F, as sklearn's ledoit_wolf_shrinkage.
  let betaRaw = 0;
  for (let t = 0; t < N; t++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += Z[c * N + t]! ** 2;
    betaRaw += s * s;
  }
  let deltaRaw = 0;
  for (let i = 0; i < S.length; i++) deltaRaw += S[i]! ** 2;
  let beta = (betaRaw / N - deltaRaw) / (C * N);
  const delta = (deltaRaw - 2 * mu * tr + C * mu * mu) / C;
  beta = Math.min(beta, delta);
  const shrinkage = beta === 0 ? 0 : beta / delta;
  return { cov: shrink(S, C, shrinkage, mu), shrinkage };
}

/** Oracle approximating shrinkage, ≙ sklearn `oas(X.T)` (scikit-learn's modified formula). */
export function oasCovariance(X: ArrayLike<number>, C: number, N: number, labels?: string[]): CovEstimate {
  checkFinite(X, C, N, labels);
  const S = gram(centred(X, C, N), C, N);
  if (C === 1) return { cov: S, shrinkage: 0 };
  let tr = 0;
  for (let i = 0; i < C; i++) tr += S[i * C + i]!;
  const mu = tr / C;
  let alpha = 0;
  for (let i = 0; i < S.length; i++) alpha += S[i]! ** 2;
  alpha /= S.length;
  const num = alpha + mu * mu;
  const den = (N + 1) * (alpha - (mu * mu) / C);
  const shrinkage = den === 0 ? 1 : Math.min(num / den, 1);
  return { cov: shrink(S, C, shrinkage, mu), shrinkage };
}

function shrink(S: Float64Array, C: number, s: number, mu: number): Float64Array {
  const out = S.map((v) => (1 - s) * v);
  for (let i = 0; i < C; i++) out[i * C + i]! += s * mu;
  return out;
}

/** Covariance of one epoch with the chosen estimator. */
export function covariance(X: ArrayLike<number>, C: number, N: number, estimator: CovEstimator, labels?: string[]): Float64Array {
  if (estimator === 'scm') return sampleCovariance(X, C, N, labels);
  if (estimator === 'lwf') return ledoitWolfCovariance(X, C, N, labels).cov;
  if (estimator === 'oas') return oasCovariance(X, C, N, labels).cov;
  throw new Error(`unknown covariance estimator '${String(estimator)}' (use scm, lwf or oas)`);
}
