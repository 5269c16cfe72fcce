/**
 * Dejitter: a robust, exponentially-forgetting linear fit of timestamps against
 * sample index (t ≈ a + b·n), so per-sample timestamps become a smooth line whose
 * slope is the stream's true sample period. Outliers (late deliveries, bursts) are
 * down-weighted with a Huber weight so they do not bend the fit.
 */
export interface DejitterOptions {
  /** Half-life of the fit's memory, in seconds of stream time. Longer = smoother, slower to follow drift. */
  halfTime?: number;
  /** Residuals beyond this many robust standard deviations are down-weighted (Huber). */
  huberK?: number;
  /** Samples to observe before the fit replaces raw timestamps. */
  warmup?: number;
}

export interface DejitterState {
  /** Estimated sample period (s). */
  period: number;
  /** Estimated sample rate (Hz). */
  srate: number;
  /** Robust RMS of raw-vs-fit residuals (s): the jitter the stream had. */
  jitter: number;
  samples: number;
}

export class Dejitter {
  private readonly lambda: number;
  private readonly k: number;
  private readonly warmup: number;
  // Weighted sums over (n - nRef, t - tRef).
  private s0 = 0;
  private sn = 0;
  private st = 0;
  private snn = 0;
  private snt = 0;
  private nRef = 0;
  private tRef = 0;
  private n = 0;
  private started = false;
  private resVar = 0;
  private count = 0;

  constructor(
    private readonly nominalSrate: number,
    opts: DejitterOptions = {},
  ) {
    if (!(nominalSrate > 0)) throw new Error(`dejitter needs a regular stream, got nominal rate ${nominalSrate}`);
    const halfTime = opts.halfTime ?? 30;
    this.lambda = Math.pow(2, -1 / (halfTime * nominalSrate));
    this.k = opts.huberK ?? 3;
    this.warmup = opts.warmup ?? Math.max(8, Math.round(nominalSrate * 0.5));
  }

  /** Forget everything (after a clock reset). */
  reset(): void {
    this.s0 = this.sn = this.st = this.snn = this.snt = 0;
    this.n = 0;
    this.started = false;
    this.resVar = 0;
    this.count = 0;
  }

  /** Skip `missing` sample indices (a gap of known size) without data. */
  skip(missing: number): void {
    this.n += missing;
  }

  private fit(): { a: number; b: number } | undefined {
    const den = this.s0 * this.snn - this.sn * this.sn;
    if (this.count < 2 || !(den > 0)) return undefined;
    const b = (this.s0 * this.snt - this.sn * this.st) / den;
    const a = (this.st - b * this.sn) / this.s0;
    return { a, b };
  }

  /** Move the reference point so sums stay small (keeps float64 exact over hours). */
  private rebase(): void {
    const d = this.n - this.nRef;
    const f = this.fit();
    const e = f ? f.a + f.b * d : 0;
    this.snn = this.snn - 2 * d * this.sn + d * d * this.s0;
    this.snt = this.snt - d * this.st - e * (this.sn - d * this.s0);
    this.sn = this.sn - d * this.s0;
    this.st = this.st - e * this.s0;
    this.nRef += d;
    this.tRef += e;
  }

  /** Replace `ts` (in place) with the fitted line; returns it. */
  process(ts: Float64Array): Float64Array {
    const period0 = 1 / this.nominalSrate;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i]!;
      if (!this.started) {
        this.started = true;
        this.nRef = this.n;
        this.tRef = t;
      }
      if (this.n - this.nRef > 1e6) this.rebase();
      const x = this.n - this.nRef;
      const y = t - this.tRef;
      const f = this.fit();
      let w = 1;
      let out = t;
      if (f) {
        const pred = f.a + f.b * x;
        const r = y - pred;
        const sd = Math.sqrt(this.resVar) + 1e-6 * period0;
        if (this.count > this.warmup && Math.abs(r) > this.k * sd) w = (this.k * sd) / Math.abs(r);
        // Residual variance tracks with the same memory as the fit.
        this.resVar = this.count <= 2 ? r * r : this.lambda * this.resVar + (1 - this.lambda) * w * r * r;
        if (this.count > this.warmup) out = this.tRef + pred;
      }
      this.s0 = this.lambda * this.s0 + w;
      this.sn = this.lambda * this.sn + w * x;
      this.st = this.lambda * this.st + w * y;
      this.snn = this.lambda * this.snn + w * x * x;
      this.snt = this.lambda * this.snt + w * x * y;
      this.count++;
      this.n++;
      ts[i] = out;
    }
    return ts;
  }

  state(): DejitterState {
    const f = this.fit();
    const period = f ? f.b : 1 / this.nominalSrate;
    return { period, srate: 1 / period, jitter: Math.sqrt(this.resVar), samples: this.count };
  }
}
