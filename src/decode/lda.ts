/**
 * Multi-class linear discriminant analysis with Ledoit–Wolf shrinkage of the pooled
 * covariance (Ledoit & Wolf 2004, "A well-conditioned estimator for large-dimensional
 * covariance matrices"). Shrinkage keeps LDA usable when trials are few relative to
 * features, the usual BCI calibration regime (Blankertz et al. 2011).
 */

export interface LdaModel {
  classes: string[];
  /** Feature standardisation learnt on the training set. */
  mean: number[];
  scale: number[];
  /** Per class: weights (d) and bias. */
  weights: number[][];
  bias: number[];
  shrinkage: number;
}

/** Ledoit–Wolf shrinkage intensity for centred data X (n × d), towards ν·I. */
export function ledoitWolf(X: Float64Array[], d: number): { cov: Float64Array; gamma: number } {
  const n = X.length;
  const S = new Float64Array(d * d);
  for (const x of X) for (let i = 0; i < d; i++) for (let j = i; j < d; j++) S[i * d + j]! += x[i]! * x[j]!;
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) (S[i * d + j] = S[i * d + j]! / n), (S[j * d + i] = S[i * d + j]!);
  let nu = 0;
  for (let i = 0; i < d; i++) nu += S[i * d + i]!;
  nu /= d;
  // δ² = ||S − νI||², β² = (1/n²) Σ ||x xᵀ − S||²
  let delta2 = 0;
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) delta2 += (S[i * d + j]! - (i === j ? nu : 0)) ** 2;
  let beta2 = 0;
  for (const x of X) {
    let s = 0;
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) s += (x[i]! * x[j]! - S[i * d + j]!) ** 2;
    beta2 += s;
  }
  beta2 /= n * n;
  const gamma = delta2 > 0 ? Math.min(1, Math.max(0, beta2 / delta2)) : 1;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) cov[i] = (1 - gamma) * S[i]!;
  for (let i = 0; i < d; i++) cov[i * d + i]! += gamma * nu;
  return { cov, gamma };
}

/** Solve A x = b for symmetric positive-definite A (Cholesky), in place on a copy. */
export function solveSpd(A: Float64Array, d: number, b: Float64Array): Float64Array {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * d + j]!;
      for (let k = 0; k < j; k++) s -= L[i * d + k]! * L[j * d + k]!;
      if (i === j) {
        if (!(s > 0)) throw new Error('covariance is not positive definite (constant or duplicated features?)');
        L[i * d + i] = Math.sqrt(s);
      } else L[i * d + j] = s / L[j * d + j]!;
    }
  }
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * d + k]! * y[k]!;
    y[i] = s / L[i * d + i]!;
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < d; k++) s -= L[k * d + i]! * x[k]!;
    x[i] = s / L[i * d + i]!;
  }
  return x;
}

/** Fit shrinkage LDA on rows `X` with string labels `y`. Class priors are taken as equal. */
export function fitLda(X: ArrayLike<number>[], y: string[]): LdaModel {
  if (X.length !== y.length) throw new Error(`LDA: ${X.length} feature rows but ${y.length} labels`);
  if (X.length === 0) throw new Error('LDA: no training data');
  const d = X[0]!.length;
  const classes = [...new Set(y)].sort();
  if (classes.length < 2) throw new Error(`LDA needs at least 2 classes, got ${classes.join(', ') || 'none'}`);
  const mean = new Array<number>(d).fill(0);
  const scale = new Array<number>(d).fill(0);
  for (const x of X) for (let i = 0; i < d; i++) mean[i]! += x[i]! / X.length;
  for (const x of X) for (let i = 0; i < d; i++) scale[i]! += (x[i]! - mean[i]!) ** 2 / X.length;
  for (let i = 0; i < d; i++) scale[i] = Math.sqrt(scale[i]!) || 1;
  const Z = X.map((x) => Float64Array.from({ length: d }, (_, i) => (x[i]! - mean[i]!) / scale[i]!));
  const mus = classes.map((c) => {
    const m = new Float64Array(d);
    let n = 0;
    Z.forEach((z, k) => {
      if (y[k] !== c) return;
      n++;
      for (let i = 0; i < d; i++) m[i]! += z[i]!;
    });
    for (let i = 0; i < d; i++) m[i]! /= n;
    return m;
  });
  const centred = Z.map((z, k) => {
    const m = mus[classes.indexOf(y[k]!)]!;
    return Float64Array.from(z, (v, i) => v - m[i]!);
  });
  const { cov, gamma } = ledoitWolf(centred, d);
  const weights: number[][] = [];
  const bias: number[] = [];
  for (const m of mus) {
    const w = solveSpd(cov, d, m);
    weights.push([...w]);
    let q = 0;
    for (let i = 0; i < d; i++) q += w[i]! * m[i]!;
    bias.push(-0.5 * q);
  }
  return { classes, mean, scale, weights, bias, shrinkage: gamma };
}

/** Class probabilities (softmax of the discriminant scores). */
export function predictLda(m: LdaModel, x: ArrayLike<number>): number[] {
  const d = m.mean.length;
  if (x.length !== d) throw new Error(`LDA: expected ${d} features, got ${x.length}`);
  const scores = m.weights.map((w, k) => {
    let s = m.bias[k]!;
    for (let i = 0; i < d; i++) s += w[i]! * ((x[i]! - m.mean[i]!) / m.scale[i]!);
    return s;
  });
  const mx = Math.max(...scores);
  const e = scores.map((s) => Math.exp(s - mx));
  const tot = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / tot);
}
