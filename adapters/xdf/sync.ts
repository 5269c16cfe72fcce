/**
 * Clock synchronisation and dejittering of XDF timestamps.
 *
 * Clock synchronisation. A recorder measures, every few seconds, the offset
 * between each stream's sender clock and its own clock (ClockOffset chunks:
 * collection time on the sender clock, offset to add). Within one stretch of
 * an unbroken sender clock the offset drifts slowly and nearly linearly, so we
 * fit offset = a + b·(t − t0) robustly (Huber-weighted least squares: outlying
 * measurements, e.g. from a delayed network round trip, lose weight) and add
 * the fitted offset to every sample timestamp.
 *
 * Clock resets. When the sender's machine restarts its clock (reboot, new
 * session), the collection times jump (usually backwards) and the offset jumps
 * with them. We look at consecutive offset measurements: the step in
 * collection time and the step in offset value are compared to their typical
 * (median) step, with a robust spread (median absolute deviation). A step that
 * is abnormal in BOTH respects — beyond a number of robust spreads and beyond
 * an absolute floor in seconds — marks a reset. Gaps in recording alone (time
 * jumps, offset unchanged) or offset glitches alone are not resets. Each
 * stretch between resets gets its own fit.
 *
 * Which stretch a sample belongs to: samples are visited in order and each is
 * given the stretch whose collection-time range is nearest to its timestamp,
 * never going back to an earlier stretch than the previous sample's (the clock
 * only resets forward in file order). Samples before the first or after the
 * last measurement of a stretch use that stretch's line, extrapolated.
 *
 * Dejitter. For regular streams, timestamps are split where they step back or
 * jump forward by more than a break threshold; within each piece a line
 * timestamp = a + b·index is fitted (least squares by default, which is what
 * pyxdf does and what the example files' README shows; Huber-robust on
 * request) and the timestamps are replaced by it.
 */

export interface LineFit {
  /** Value at x0. */
  a: number;
  /** Slope. */
  b: number;
  /** Centre of the x values (for numerical stability). */
  x0: number;
}

export function evalLine(f: LineFit, x: number): number {
  return f.a + f.b * (x - f.x0);
}

/**
 * Robust straight-line fit y ≈ a + b·(x − x0) by iteratively reweighted least
 * squares with Huber weights (residuals beyond `huber` are down-weighted).
 */
export function robustLineFit(x: ArrayLike<number>, y: ArrayLike<number>, huber: number, iterations = 30): LineFit {
  const n = x.length;
  if (n === 0) return { a: 0, b: 0, x0: 0 };
  let x0 = 0;
  for (let i = 0; i < n; i++) x0 += x[i]!;
  x0 /= n;
  const y0 = y[0]!; // y is fitted relative to its first value (large clock readings)
  const w = new Float64Array(n).fill(1);
  let a = 0;
  let b = 0;
  for (let it = 0; it < iterations; it++) {
    let sw = 0;
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < n; i++) {
      sw += w[i]!;
      sx += w[i]! * (x[i]! - x0);
      sy += w[i]! * (y[i]! - y0);
    }
    const mx = sx / sw;
    const my = sy / sw;
    let sxx = 0;
    let sxy = 0;
    for (let i = 0; i < n; i++) {
      const dx = x[i]! - x0 - mx;
      sxx += w[i]! * dx * dx;
      sxy += w[i]! * dx * (y[i]! - y0 - my);
    }
    const nb = sxx > 0 ? sxy / sxx : 0;
    const na = my - nb * mx;
    const spreadX = sxx > 0 ? Math.sqrt(sxx / sw) : 0;
    const change = Math.abs(na - a) + Math.abs(nb - b) * spreadX;
    a = na;
    b = nb;
    if (huber <= 0 || !Number.isFinite(huber)) break;
    if (it > 0 && change <= 1e-15 * (1 + Math.abs(a))) break;
    for (let i = 0; i < n; i++) {
      const r = Math.abs(y[i]! - y0 - (a + b * (x[i]! - x0)));
      w[i] = r <= huber ? 1 : huber / r;
    }
  }
  return { a: a + y0, b, x0 };
}

function median(v: number[]): number {
  if (v.length === 0) return 0;
  const s = [...v].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface ClockSyncOptions {
  /** Split the offsets into segments at clock resets (default true). */
  handleClockResets?: boolean;
  /** A reset needs a collection-time step this many robust spreads from typical (default 5) ... */
  resetTimeSpreads?: number;
  /** ... and at least this many seconds from typical (default 5). */
  resetTimeSeconds?: number;
  /** and an offset step this many robust spreads from typical (default 10) ... */
  resetOffsetSpreads?: number;
  /** ... and at least this many seconds (default 1). */
  resetOffsetSeconds?: number;
  /** Residual (s) beyond which an offset measurement is down-weighted in the fit (default 1e-4). */
  huberSeconds?: number;
}

export interface ClockSegment {
  /** Index range [first, last] into the stream's clock offsets. */
  first: number;
  last: number;
  /** offset(t) = evalLine(fit, t), t on the sender clock. */
  fit: LineFit;
  /** Collection-time range covered by this segment's measurements. */
  tStart: number;
  tEnd: number;
}

/** Split clock offset measurements into segments separated by clock resets and fit each. */
export function clockSegments(times: ArrayLike<number>, values: ArrayLike<number>, opts: ClockSyncOptions = {}): ClockSegment[] {
  const n = times.length;
  if (n === 0) return [];
  const cuts: number[] = [];
  if ((opts.handleClockResets ?? true) && n >= 3) {
    const dt: number[] = [];
    const dv: number[] = [];
    for (let i = 1; i < n; i++) {
      dt.push(times[i]! - times[i - 1]!);
      dv.push(Math.abs(values[i]! - values[i - 1]!));
    }
    const mdt = median(dt);
    const sdt = 1.4826 * median(dt.map((d) => Math.abs(d - mdt)));
    const mdv = median(dv);
    const sdv = 1.4826 * median(dv.map((d) => Math.abs(d - mdv)));
    const tSpreads = opts.resetTimeSpreads ?? 5;
    const tSec = opts.resetTimeSeconds ?? 5;
    const vSpreads = opts.resetOffsetSpreads ?? 10;
    const vSec = opts.resetOffsetSeconds ?? 1;
    for (let k = 0; k < dt.length; k++) {
      const tDev = Math.abs(dt[k]! - mdt);
      const vDev = Math.abs(dv[k]! - mdv);
      const timeGlitch = tDev > tSpreads * sdt && tDev > tSec;
      const valueGlitch = vDev > vSpreads * sdv && vDev > vSec;
      if (timeGlitch && valueGlitch) cuts.push(k + 1);
    }
  }
  const huber = opts.huberSeconds ?? 1e-4;
  const segs: ClockSegment[] = [];
  let s = 0;
  for (const e of [...cuts, n]) {
    const xs = Array.from({ length: e - s }, (_, i) => times[s + i]!);
    const ys = Array.from({ length: e - s }, (_, i) => values[s + i]!);
    segs.push({
      first: s,
      last: e - 1,
      fit: robustLineFit(xs, ys, huber),
      tStart: Math.min(...xs),
      tEnd: Math.max(...xs),
    });
    s = e;
  }
  return segs;
}

/** Add the fitted clock offset to each timestamp (see the module comment for segment assignment). */
export function applyClockSync(timestamps: Float64Array, segs: ClockSegment[]): Float64Array {
  const out = new Float64Array(timestamps.length);
  if (segs.length === 0) {
    out.set(timestamps);
    return out;
  }
  let cur = 0;
  const dist = (t: number, s: ClockSegment): number => (t < s.tStart ? s.tStart - t : t > s.tEnd ? t - s.tEnd : 0);
  for (let i = 0; i < timestamps.length; i++) {
    const t = timestamps[i]!;
    if (segs.length > 1) {
      let best = cur;
      let bestD = dist(t, segs[cur]!);
      for (let k = cur + 1; k < segs.length && bestD > 0; k++) {
        const d = dist(t, segs[k]!);
        if (d < bestD) {
          best = k;
          bestD = d;
        }
      }
      cur = best;
    }
    out[i] = t + evalLine(segs[cur]!.fit, t);
  }
  return out;
}

export interface DejitterOptions {
  /** Break a segment where timestamps jump forward by more than this many seconds (default 1) ... */
  breakSeconds?: number;
  /** ... and more than this many sample periods (default 500). */
  breakSamples?: number;
}

/** Segments (index ranges [start, end)) of a regular stream, split at jumps or backward steps. */
export function timestampSegments(ts: Float64Array, srate: number, opts: DejitterOptions = {}): [number, number][] {
  const n = ts.length;
  if (n === 0) return [];
  const gap = Math.max(opts.breakSeconds ?? 1, (opts.breakSamples ?? 500) / srate);
  const out: [number, number][] = [];
  let s = 0;
  for (let i = 1; i < n; i++) {
    const d = ts[i]! - ts[i - 1]!;
    if (d < 0 || d > gap) {
      out.push([s, i]);
      s = i;
    }
  }
  out.push([s, n]);
  return out;
}

/**
 * Replace the timestamps of a regular stream by a straight line over sample
 * index, fitted per segment. `huberSeconds` = Infinity (default) is ordinary
 * least squares, which reproduces pyxdf / the XDF example README; a finite
 * value down-weights timestamps further than that from the line (robust).
 */
export function dejitter(
  ts: Float64Array,
  srate: number,
  opts: DejitterOptions & { huberSeconds?: number } = {},
): { timestamps: Float64Array; effectiveSrate: number } {
  const out = new Float64Array(ts.length);
  let samples = 0;
  let span = 0;
  for (const [s, e] of timestampSegments(ts, srate, opts)) {
    const n = e - s;
    if (n < 2) {
      out[s] = ts[s]!;
      continue;
    }
    const idx = Array.from({ length: n }, (_, i) => i);
    const fit = robustLineFit(idx, ts.subarray(s, e), opts.huberSeconds ?? Number.POSITIVE_INFINITY);
    for (let i = 0; i < n; i++) out[s + i] = evalLine(fit, i);
    samples += n - 1;
    span += fit.b * (n - 1);
  }
  return { timestamps: out, effectiveSrate: span > 0 ? samples / span : 0 };
}

/** Effective sampling rate from raw timestamps: samples per second over the unbroken segments. */
export function effectiveSrate(ts: Float64Array, srate: number, opts: DejitterOptions = {}): number {
  if (srate <= 0 || ts.length < 2) return 0;
  let samples = 0;
  let span = 0;
  for (const [s, e] of timestampSegments(ts, srate, opts)) {
    if (e - s < 2) continue;
    samples += e - s - 1;
    span += ts[e - 1]! - ts[s]!;
  }
  return span > 0 ? samples / span : 0;
}
