/**
 * Shrinkage LDA as scikit-learn's `LinearDiscriminantAnalysis(solver='lsqr',
 * shrinkage='auto')`, so the classical pipelines can be checked prediction for
 * prediction against their published reference: within-class covariance = Σ_k p_k ·
 * LW(standardised X_k) rescaled, priors = class frequencies, w_k = Σ⁻¹ μ_k,
 * b_k = −½ μ_kᵀ w_k + log p_k. (`lda.ts` is the baseline decoder's variant, with
 * pooled centring and equal priors.)
 */
import { ledoitWolfCovariance } from './riemann/covariance.ts';
import { cholesky } from './riemann/spd.ts';

/** A fitted LDA: one weight row and bias per class. */
export interface LsqrLdaModel {
  classes: string[];
  weights: number[][];
  bias: number[];
}

/** Fit on feature rows `X` (n × d) with labels `y`. */
export function fitLsqrLda(X: ArrayLike<number>[], y: string[], classes = [...new Set(y)].sort()): LsqrLdaModel {
  if (X.length !== y.length) throw new Error(`LDA: ${X.length} feature rows but ${y.length} labels`);
  const d = X[0]?.length ?? 0;
  if (d === 0) throw new Error('LDA: no features');
  const n = X.length;
  const cov = new Float64Array(d * d);
  const means: Float64Array[] = [];
  const priors: number[] = [];
  for (const c of classes) {
    const rows = X.filter((_, i) => y[i] === c);
    if (rows.length < 2) throw new Error(`LDA: class '${c}' has ${rows.length} trial(s); at least 2 are needed`);
    const m = new Float64Array(d);
    for (const r of rows) for (let j = 0; j < d; j++) m[j]! += r[j]! / rows.length;
    const sd = new Float64Array(d);
    for (const r of rows) for (let j = 0; j < d; j++) sd[j]! += (r[j]! - m[j]!) ** 2 / rows.length;
    for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]!) || 1; // StandardScaler leaves constant features unscaled
    // Ledoit–Wolf of the standardised class rows, as a features × samples block.
    const Z = new Float64Array(d * rows.length);
    rows.forEach((r, t) => { for (let j = 0; j < d; j++) Z[j * rows.length + t] = (r[j]! - m[j]!) / sd[j]!; });
    const { cov: s } = ledoitWolfCovariance(Z, d, rows.length);
    const p = rows.length / n;
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i * d + j]! += p * sd[i]! * s[i * d + j]! * sd[j]!;
    means.push(m);
    priors.push(p);
  }
  const L = cholesky(cov, d, 'LDA within-class covariance');
  const weights = means.map((m) => [...cholSolve(L, d, m)]);
  const bias = means.map((m, k) => -0.5 * weights[k]!.reduce((a, w, j) => a + w * m[j]!, 0) + Math.log(priors[k]!));
  return { classes, weights, bias };
}

/** Solve L Lᵀ x = b. */
export function cholSolve(L: Float64Array, d: number, b: ArrayLike<number>): Float64Array {
  const z = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * d + k]! * z[k]!;
    z[i] = s / L[i * d + i]!;
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < d; k++) s -= L[k * d + i]! * x[k]!;
    x[i] = s / L[i * d + i]!;
  }
  return x;
}

/** Discriminant scores (one per class). */
export function ldaScores(m: LsqrLdaModel, x: ArrayLike<number>): number[] {
  const d = m.weights[0]!.length;
  if (x.length !== d) throw new Error(`LDA: expected ${d} features, got ${x.length}`);
  return m.weights.map((w, k) => w.reduce((a, v, j) => a + v * x[j]!, m.bias[k]!));
}

/** Softmax of scores (the LDA posterior under shared covariance). */
export function softmax(s: number[]): number[] {
  const mx = Math.max(...s);
  const e = s.map((v) => Math.exp(v - mx));
  const t = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / t);
}
