/**
 * Per-client resource rules for the WebSocket server: a token bucket for incoming
 * messages, and a log of client errors that is summarised per interval instead of
 * written one line per message (a flood of bad messages must not become a flood of
 * synchronous log writes that stalls every other client).
 */

/** Token bucket: `rate` messages per second, bursts of up to `burst`. */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(private readonly rate: number, private readonly burst: number, now: number) {
    this.tokens = burst;
    this.last = now;
  }

  /** Take one token; false when the client is over its rate. `now` in seconds. */
  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Counts of client problems by kind, flushed as one summary per interval. */
export class ProblemLog {
  private counts = new Map<string, number>();
  private total = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly every: number, private readonly write: (summary: Record<string, number>, total: number) => void) {}

  /** Count one problem; the first of an interval starts the timer that reports them. */
  count(kind: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    this.total++;
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.every * 1000);
      this.timer.unref();
    }
  }

  /** Report what was counted since the last report (nothing when nothing was). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.counts.size === 0) return;
    const summary = Object.fromEntries(this.counts);
    this.counts = new Map();
    this.write(summary, this.total);
  }

  /** Problems counted since start. */
  get seen(): number {
    return this.total;
  }
}
