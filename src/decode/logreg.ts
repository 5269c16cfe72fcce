/**
 * L2-regularised logistic regression as scikit-learn's `LogisticRegression(C)` with the
 * lbfgs solver: minimise ½‖W‖² + C Σ_i loss_i with an unpenalised intercept; binary
 * problems use one weight vector (sigmoid), more classes the multinomial softmax with
 * one vector per class. Fitted by L-BFGS (Nocedal & Wright 2006, Alg. 7.4/7.5) with a
 * backtracking Armijo line search, to a tight gradient tolerance.
 */

/** A fitted logistic regression. Binary: one row in `coef` (class 1 vs class 0). */
export interface LogRegModel {
  classes: string[];
  coef: number[][];
  intercept: number[];
  C: number;
  iterations: number;
}

export interface LogRegOptions {
  /** Inverse regularisation strength (default 1, as scikit-learn). */
  C?: number;
  /** Stop when the largest gradient component is below this (default 1e-8). */
  tol?: number;
  maxIter?: number;
}

/** Fit on rows X (n × d) with labels y. */
export function fitLogReg(X: ArrayLike<number>[], y: string[], opts: LogRegOptions = {}, classes = [...new Set(y)].sort()): LogRegModel {
  const C = opts.C ?? 1;
  const n = X.length;
  if (n !== y.length) throw new Error(`logistic regression: ${n} rows but ${y.length} labels`);
  const d = X[0]?.length ?? 0;
  if (d === 0) throw new Error('logistic regression: no features');
  if (classes.length < 2) throw new Error(`logistic regression needs at least 2 classes, got ${classes.join(', ')}`);
  const K = classes.length === 2 ? 1 : classes.length;
  const yi = y.map((l) => classes.indexOf(l));
  const P = K * (d + 1); // per class: d weights then the intercept
  const rows = X.map((x) => Float64Array.from(x as ArrayLike<number>));
  const f = (w: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let loss = 0;
    const z = new Float64Array(K);
    for (let i = 0; i < n; i++) {
      const x = rows[i]!;
      for (let k = 0; k < K; k++) {
        let s = w[k * (d + 1) + d]!;
        for (let j = 0; j < d; j++) s += w[k * (d + 1) + j]! * x[j]!;
        z[k] = s;
      }
      const r = new Float64Array(K); // ∂loss_i/∂z
      if (K === 1) {
        const t = yi[i] === 1 ? 1 : -1;
        const m = t * z[0]!;
        loss += m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m));
        r[0] = -t / (1 + Math.exp(m));
      } else {
        const mx = Math.max(...z);
        let se = 0;
        for (let k = 0; k < K; k++) se += Math.exp(z[k]! - mx);
        loss += mx + Math.log(se) - z[yi[i]!]!;
        for (let k = 0; k < K; k++) r[k] = Math.exp(z[k]! - mx) / se - (k === yi[i] ? 1 : 0);
      }
      for (let k = 0; k < K; k++) {
        const rk = C * r[k]!;
        for (let j = 0; j < d; j++) g[k * (d + 1) + j]! += rk * x[j]!;
        g[k * (d + 1) + d]! += rk;
      }
    }
    let reg = 0;
    for (let k = 0; k < K; k++)
      for (let j = 0; j < d; j++) {
        const v = w[k * (d + 1) + j]!;
        reg += v * v;
        g[k * (d + 1) + j]! += v;
      }
    return C * loss + 0.5 * reg;
  };
  const { x: w, iterations } = lbfgs(f, new Float64Array(P), opts.tol ?? 1e-8, opts.maxIter ?? 5000);
  const coef: number[][] = [];
  const intercept: number[] = [];
  for (let k = 0; k < K; k++) {
    coef.push([...w.subarray(k * (d + 1), k * (d + 1) + d)]);
    intercept.push(w[k * (d + 1) + d]!);
  }
  return { classes, coef, intercept, C, iterations };
}

/** Class probabilities in `classes` order. */
export function logRegProba(m: LogRegModel, x: ArrayLike<number>): number[] {
  const d = m.coef[0]!.length;
  if (x.length !== d) throw new Error(`logistic regression: expected ${d} features, got ${x.length}`);
  const z = m.coef.map((w, k) => w.reduce((a, v, j) => a + v * x[j]!, m.intercept[k]!));
  if (z.length === 1) {
    const p1 = 1 / (1 + Math.exp(-z[0]!));
    return [1 - p1, p1];
  }
  const mx = Math.max(...z);
  const e = z.map((v) => Math.exp(v - mx));
  const t = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / t);
}

/** Limited-memory BFGS minimiser (memory 10) of a smooth function with gradient. */
export function lbfgs(f: (x: Float64Array, g: Float64Array) => number, x0: Float64Array, tol: number, maxIter: number): { x: Float64Array; fx: number; iterations: number } {
  const n = x0.length;
  const M = 10;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let fx = f(x, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const dir = new Float64Array(n);
  let it = 0;
  const maxAbs = (v: Float64Array): number => v.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
  while (it < maxIter && maxAbs(g) > tol) {
    it++;
    // two-loop recursion: dir = −H g
    for (let i = 0; i < n; i++) dir[i] = -g[i]!;
    const alpha = new Array<number>(S.length);
    for (let k = S.length - 1; k >= 0; k--) {
      let a = 0;
      for (let i = 0; i < n; i++) a += S[k]![i]! * dir[i]!;
      a *= rho[k]!;
      alpha[k] = a;
      for (let i = 0; i < n; i++) dir[i]! -= a * Y[k]![i]!;
    }
    if (S.length) {
      const k = S.length - 1;
      let sy = 0, yy = 0;
      for (let i = 0; i < n; i++) (sy += S[k]![i]! * Y[k]![i]!), (yy += Y[k]![i]! ** 2);
      const gamma = sy / yy;
      for (let i = 0; i < n; i++) dir[i]! *= gamma;
    } else {
      const s = 1 / Math.max(1, Math.sqrt(g.reduce((a, v) => a + v * v, 0)));
      for (let i = 0; i < n; i++) dir[i]! *= s;
    }
    for (let k = 0; k < S.length; k++) {
      let b = 0;
      for (let i = 0; i < n; i++) b += Y[k]![i]! * dir[i]!;
      b *= rho[k]!;
      for (let i = 0; i < n; i++) dir[i]! += S[k]![i]! * (alpha[k]! - b);
    }
    let gd = 0;
    for (let i = 0; i < n; i++) gd += g[i]! * dir[i]!;
    if (!(gd < 0)) {
      // not a descent direction (round-off): restart from steepest descent
      S.length = Y.length = rho.length = 0;
      for (let i = 0; i < n; i++) dir[i] = -g[i]!;
      gd = -g.reduce((a, v) => a + v * v, 0);
    }
    let step = 1;
    const xn = new Float64Array(n);
    const gn = new Float64Array(n);
    let fn = 0;
    for (let ls = 0; ls < 60; ls++) {
      for (let i = 0; i < n; i++) xn[i] = x[i]! + step * dir[i]!;
      fn = f(xn, gn);
      if (fn <= fx + 1e-4 * step * gd) break;
      step *= 0.5;
    }
    if (!(fn <= fx)) break; // no progress possible at machine precision
    const s = new Float64Array(n);
    const yv = new Float64Array(n);
    let sy = 0;
    for (let i = 0; i < n; i++) (s[i] = xn[i]! - x[i]!), (yv[i] = gn[i]! - g[i]!), (sy += s[i]! * yv[i]!);
    if (sy > 1e-300) {
      S.push(s), Y.push(yv), rho.push(1 / sy);
      if (S.length > M) S.shift(), Y.shift(), rho.shift();
    }
    const done = fx - fn <= 1e-16 * Math.max(1, Math.abs(fx));
    x = Float64Array.from(xn);
    g = Float64Array.from(gn);
    fx = fn;
    if (done && maxAbs(g) <= tol * 1e3) break;
  }
  return { x, fx, iterations: it };
}
