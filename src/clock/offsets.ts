/**
 * Clock offsets from lsl_time_correction: remote timestamp + offset = local time.
 * Single measurements carry network round-trip noise, so the offset applied is the
 * median of the most recent measurements; a jump beyond `resetThreshold` means the
 * remote clock was reset, and the history restarts.
 */
export class OffsetTracker {
  private readonly history: number[] = [];
  /** Offset in force from each measurement's collection time on (ascending). */
  private readonly steps: { from: number; offset: number }[] = [];

  constructor(
    private readonly window = 5,
    private readonly resetThreshold = 1.0,
  ) {}

  /**
   * Add a measurement taken at local time `collectedAt`; returns true when it shows a
   * clock reset. The smoothed offset applies to samples from `collectedAt` on, so the
   * correction depends only on the recorded data, never on when chunks arrived (live
   * and replay agree).
   */
  add(offset: number, collectedAt = Infinity): boolean {
    let reset = false;
    const current = this.value;
    if (this.steps.length && Math.abs(offset - current) > this.resetThreshold) {
      this.history.length = 0;
      reset = true;
    }
    this.history.push(offset);
    if (this.history.length > this.window) this.history.shift();
    const s = [...this.history].sort((a, b) => a - b);
    const m = s.length >> 1;
    const v = s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
    this.steps.push({ from: Number.isFinite(collectedAt) ? collectedAt : -Infinity, offset: v });
    // Only the recent past is ever looked up.
    if (this.steps.length > 64) this.steps.splice(0, this.steps.length - 64);
    return reset;
  }

  /** The latest smoothed offset (0 before any measurement). */
  get value(): number {
    return this.steps.length ? this.steps[this.steps.length - 1]!.offset : 0;
  }

  /**
   * Offset for a sample with raw timestamp `t`: the step in force at its local time.
   * The first measurement also covers samples before it.
   */
  at(t: number): number {
    const st = this.steps;
    if (st.length === 0) return 0;
    for (let i = st.length - 1; i > 0; i--) if (t + st[i]!.offset >= st[i]!.from) return st[i]!.offset;
    return st[0]!.offset;
  }
}

/** Clamp timestamps so they never go backwards (in place). Returns how many were clamped. */
export function monotonize(ts: Float64Array, prev: number): number {
  let clamped = 0;
  let last = prev;
  for (let i = 0; i < ts.length; i++) {
    if (ts[i]! < last) {
      ts[i] = last;
      clamped++;
    }
    last = ts[i]!;
  }
  return clamped;
}
