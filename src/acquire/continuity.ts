/**
 * Acquire-stage checks shared by live inlets and replay: sample continuity against
 * the nominal rate (gaps become explicit GapEvents), NaN/Inf counting, and the
 * effective delivery rate.
 */
import type { GapEvent, StreamId } from '../types.ts';
import { logger } from '../log.ts';

const log = logger('acquire');

/** Tracks continuity, NaNs and effective rate for one stream. */
export class StreamMonitor {
  private lastTs: number | undefined;
  private rateT0 = 0;
  private rateN = 0;
  private warnedRate = false;
  /** Set when the measured delivery rate is off the nominal rate by more than the tolerance. */
  rateMismatch: { nominal: number; measured: number } | undefined;
  /** The first window after (re)connection is skipped: it holds the catch-up burst. */
  private warm = false;
  private nanWarnedAt = -Infinity;
  nanCount = 0;
  constructor(
    private readonly id: StreamId,
    private readonly srate: number,
    private readonly tol: number,
    private readonly rateTol: number,
  ) {}

  /** Gaps found in this block of timestamps (including the boundary with the previous block). */
  gaps(ts: Float64Array, lostBefore: boolean): GapEvent[] {
    const out: GapEvent[] = [];
    if (this.srate <= 0 || ts.length === 0) {
      if (ts.length) this.lastTs = ts[ts.length - 1];
      return out;
    }
    const period = 1 / this.srate;
    let prev = this.lastTs;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i]!;
      if (prev !== undefined && t - prev > period + this.tol) {
        const missing = Math.max(1, Math.round((t - prev) * this.srate) - 1);
        out.push({
          kind: 'gap',
          stream: this.id,
          tStart: prev + period,
          tEnd: t - period,
          missingSamples: missing,
          reason: lostBefore && out.length === 0 ? 'stream-lost' : 'discontinuity',
        });
      }
      prev = t;
    }
    this.lastTs = prev;
    return out;
  }

  /** Arrival-rate check: warns once when the stream delivers at a rate far from its nominal one. */
  arrived(samples: number, at: number, reset: boolean): void {
    if (this.srate <= 0) return;
    if (reset || this.rateN === 0) {
      if (reset) this.warm = false;
      this.rateT0 = at;
      this.rateN = reset ? 0 : samples;
      if (!reset) return;
    }
    this.rateN += samples;
    const span = at - this.rateT0;
    if (span >= 5) {
      const measured = (this.rateN - samples) / span;
      const first = !this.warm;
      this.warm = true;
      if (!first && !this.warnedRate && Math.abs(measured - this.srate) / this.srate > this.rateTol) {
        this.warnedRate = true;
        this.rateMismatch = { nominal: this.srate, measured };
        log.warn({ stream: this.id, nominal: this.srate, measured: +measured.toFixed(2) }, 'stream delivers at a rate different from its nominal rate');
      }
      this.rateT0 = at;
      this.rateN = samples;
    }
  }

  nans(data: Float32Array, at: number): void {
    let n = 0;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) n++;
    if (n === 0) return;
    this.nanCount += n;
    if (at - this.nanWarnedAt > 5) {
      this.nanWarnedAt = at;
      log.warn({ stream: this.id, nonFinite: n, total: this.nanCount }, 'stream contains NaN/Inf samples (kept in the recording, repaired downstream)');
    }
  }
}

