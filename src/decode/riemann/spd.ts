/**
 * Symmetric positive-definite (SPD) matrix algebra for Riemannian BCI decoders
 * (Barachant et al. 2012, "Multiclass brain–computer interface classification by
 * Riemannian geometry"; Congedo, Barachant & Bhatia 2017, "Riemannian geometry for
 * EEG-based brain–computer interfaces; a primer and a review").
 *
 * Matrices are n × n, row-major `Float64Array`s. Eigendecompositions come from
 * ml-matrix's symmetric `EigenvalueDecomposition` (Householder tridiagonalisation + QL).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/** Eigen-decomposition of a symmetric matrix: ascending `values`, `vectors[i*n+k]` = component i of vector k. */
export interface Eigh {
  values: Float64Array;
  vectors: Float64Array;
}

/** Side length of a square row-major matrix, or an error naming the problem. */
export function sideOf(A: Float64Array): number {
  const n = Math.round(Math.sqrt(A.length));
  if (n * n !== A.length) throw new Error(`expected a square matrix, got ${A.length} values`);
  return n;
}

/** Symmetric eigendecomposition (ascending eigenvalues). Symmetrises A first so round-off cannot leak asymmetry in. */
export function eigh(A: Float64Array, n = sideOf(A)): Eigh {
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, 0.5 * (A[i * n + j]! + A[j * n + i]!));
  const e = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const vals = e.realEigenvalues;
  const V = e.eigenvectorMatrix;
  const order = vals.map((_, i) => i).sort((a, b) => vals[a]! - vals[b]!);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, k) => {
    values[k] = vals[src]!;
    for (let i = 0; i < n; i++) vectors[i * n + k] = V.get(i, src);
  });
  return { values, vectors };
}

/** V · diag(f(λ)) · Vᵀ for a symmetric A: the matrix function f(A). */
export function funm(A: Float64Array, f: (x: number) => number, n = sideOf(A)): Float64Array {
  return fromEig(eigh(A, n), f, n);
}

/** V · diag(f(λ)) · Vᵀ from a decomposition. */
export function fromEig(e: Eigh, f: (x: number) => number, n: number): Float64Array {
  const fl = Float64Array.from(e.values, f);
  const V = e.vectors;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += V[i * n + k]! * fl[k]! * V[j * n + k]!;
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  return out;
}

function positive(what: string): (x: number) => number {
  return (x) => {
    if (!(x > 0)) throw new Error(`${what}: matrix is not positive definite (eigenvalue ${x})`);
    return x;
  };
}

export const sqrtm = (A: Float64Array, n = sideOf(A)): Float64Array => { const p = positive('sqrtm'); return funm(A, (x) => Math.sqrt(p(x)), n); };
export const invsqrtm = (A: Float64Array, n = sideOf(A)): Float64Array => { const p = positive('invsqrtm'); return funm(A, (x) => 1 / Math.sqrt(p(x)), n); };
export const logm = (A: Float64Array, n = sideOf(A)): Float64Array => { const p = positive('logm'); return funm(A, (x) => Math.log(p(x)), n); };
/** Matrix exponential of a symmetric matrix. */
export const expm = (A: Float64Array, n = sideOf(A)): Float64Array => funm(A, Math.exp, n);

/** A · B for n × n matrices. */
export function matmul(A: Float64Array, B: Float64Array, n = sideOf(A)): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const a = A[i * n + k]!;
      if (a === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j]! += a * B[k * n + j]!;
    }
  return out;
}

/** W · A · W for symmetric W (a congruence by a symmetric matrix such as C^{-1/2}); result symmetrised. */
export function congruence(W: Float64Array, A: Float64Array, n = sideOf(A)): Float64Array {
  const out = matmul(matmul(W, A, n), W, n);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const s = 0.5 * (out[i * n + j]! + out[j * n + i]!);
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  return out;
}

/** Affine-invariant Riemannian distance δ(A, B) = ‖log(A^{-1/2} B A^{-1/2})‖_F. */
export function distanceRiemann(A: Float64Array, B: Float64Array, n = sideOf(A)): number {
  return distanceFromInvSqrt(invsqrtm(A, n), B, n);
}

/** δ(A, B) given A^{-1/2} (reused when many B are compared with one A). */
export function distanceFromInvSqrt(Ainvsqrt: Float64Array, B: Float64Array, n = sideOf(B)): number {
  const { values } = eigh(congruence(Ainvsqrt, B, n), n);
  let s = 0;
  for (const v of values) {
    if (!(v > 0)) throw new Error(`distance: matrix is not positive definite (eigenvalue ${v})`);
    s += Math.log(v) ** 2;
  }
  return Math.sqrt(s);
}

/** Riemannian log map of P at C: C^{1/2} log(C^{-1/2} P C^{-1/2}) C^{1/2} (a symmetric tangent matrix). */
export function logMap(P: Float64Array, C: Float64Array, n = sideOf(C)): Float64Array {
  return congruence(sqrtm(C, n), logm(congruence(invsqrtm(C, n), P, n), n), n);
}

/** Riemannian exp map of tangent matrix T at C: C^{1/2} exp(C^{-1/2} T C^{-1/2}) C^{1/2}. */
export function expMap(T: Float64Array, C: Float64Array, n = sideOf(C)): Float64Array {
  return congruence(sqrtm(C, n), expm(congruence(invsqrtm(C, n), T, n), n), n);
}

export interface KarcherOptions {
  /** Stop when the Frobenius norm of the mean tangent step falls to this (default 1e-8, as pyRiemann). */
  tol?: number;
  /** At most this many iterations (default 50, as pyRiemann). */
  maxIter?: number;
  /** Starting point (default: the arithmetic mean). */
  init?: Float64Array;
  /** Per-matrix weights (default equal); normalised to sum 1. */
  weights?: ArrayLike<number>;
}

/** Result of the Karcher-mean iteration. */
export interface KarcherMean {
  mean: Float64Array;
  iterations: number;
  /** Frobenius norm of the last tangent step (0 at the exact mean). */
  crit: number;
}

/** Arithmetic mean of matrices. */
export function meanEuclid(covs: Float64Array[], weights?: ArrayLike<number>): Float64Array {
  if (covs.length === 0) throw new Error('mean of no matrices');
  const w = normWeights(covs.length, weights);
  const out = new Float64Array(covs[0]!.length);
  covs.forEach((c, k) => { for (let i = 0; i < out.length; i++) out[i]! += w[k]! * c[i]!; });
  return out;
}

function normWeights(m: number, weights?: ArrayLike<number>): Float64Array {
  const w = weights ? Float64Array.from(weights) : new Float64Array(m).fill(1);
  if (w.length !== m) throw new Error(`expected ${m} weights, got ${w.length}`);
  const s = w.reduce((a, b) => a + b, 0);
  if (!(s > 0)) throw new Error('weights must sum to a positive number');
  return w.map((v) => v / s);
}

/**
 * Riemannian (Karcher / Fréchet) mean under the affine-invariant metric: the fixed-point
 * iteration C ← C^{1/2} exp(ν Σ w_i log(C^{-1/2} P_i C^{-1/2})) C^{1/2} with the step-size
 * rule of pyRiemann's `mean_riemann` (ν shrinks ×0.95 while steps shrink, ×0.5 otherwise).
 */
export function karcherMean(covs: Float64Array[], opts: KarcherOptions = {}): KarcherMean {
  const n = sideOf(covs[0] ?? new Float64Array(0));
  const w = normWeights(covs.length, opts.weights);
  const tol = opts.tol ?? 1e-8;
  const maxIter = opts.maxIter ?? 50;
  let C = opts.init ? Float64Array.from(opts.init) : meanEuclid(covs, w);
  let nu = 1;
  let tau = Number.MAX_VALUE;
  let crit = Number.MAX_VALUE;
  let it = 0;
  while (it < maxIter) {
    it++;
    const e = eigh(C, n);
    const C12 = fromEig(e, Math.sqrt, n);
    const Cm12 = fromEig(e, (x) => 1 / Math.sqrt(x), n);
    const J = new Float64Array(n * n);
    covs.forEach((P, k) => {
      const L = logm(congruence(Cm12, P, n), n);
      for (let i = 0; i < J.length; i++) J[i]! += w[k]! * L[i]!;
    });
    C = congruence(C12, expm(J.map((v) => nu * v), n), n);
    crit = Math.sqrt(J.reduce((a, v) => a + v * v, 0));
    const h = nu * crit;
    if (h < tau) {
      nu *= 0.95;
      tau = h;
    } else nu *= 0.5;
    if (crit <= tol || nu <= tol) break;
  }
  return { mean: C, iterations: it, crit };
}

/** Lower Cholesky factor of an SPD matrix, or an error saying it is not positive definite. */
export function cholesky(B: Float64Array, n = sideOf(B), what = 'matrix'): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = B[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) throw new Error(`${what} is not positive definite (pivot ${i}: ${s}); singular or duplicated channels?`);
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j]!;
    }
  return L;
}

/**
 * Generalised symmetric eigenproblem A w = λ B w (B SPD), ≙ scipy `eigh(A, B)`:
 * ascending λ, vectors B-orthonormal (wᵀ B w = 1), `vectors[i*n+k]` = component i of w_k.
 */
export function geneigh(A: Float64Array, B: Float64Array, n = sideOf(A), what = 'covariance'): Eigh {
  const L = cholesky(B, n, what);
  // M = L⁻¹ A L⁻ᵀ: solve L Y = A, then L M = Yᵀ (Yᵀ = A L⁻ᵀ because A is symmetric).
  const Y = new Float64Array(n * n);
  for (let c = 0; c < n; c++)
    for (let i = 0; i < n; i++) {
      let s = A[i * n + c]!;
      for (let k = 0; k < i; k++) s -= L[i * n + k]! * Y[k * n + c]!;
      Y[i * n + c] = s / L[i * n + i]!;
    }
  const M = new Float64Array(n * n);
  for (let c = 0; c < n; c++)
    for (let i = 0; i < n; i++) {
      let s = Y[c * n + i]!;
      for (let k = 0; k < i; k++) s -= L[i * n + k]! * M[k * n + c]!;
      M[i * n + c] = s / L[i * n + i]!;
    }
  const e = eigh(M, n);
  // w = L⁻ᵀ v: back-substitution with Lᵀ.
  const W = new Float64Array(n * n);
  for (let c = 0; c < n; c++)
    for (let i = n - 1; i >= 0; i--) {
      let s = e.vectors[i * n + c]!;
      for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * W[k * n + c]!;
      W[i * n + c] = s / L[i * n + i]!;
    }
  return { values: e.values, vectors: W };
}
