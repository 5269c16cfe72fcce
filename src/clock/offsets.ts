/**
 * Clock offsets from lsl_time_correction: remote timestamp + offset = local time.
 * Single measurements carry network round-trip noise, so the offset applied is the
 * median of the most recent measurements; a jump beyond `resetThreshold` means the
 * remote clock was reset, and the history restarts.
 */
export class OffsetTracker {
  private readonly history: number[] = [];
  private current: number | undefined;

  constructor(
    private readonly window = 5,
    private readonly resetThreshold = 1.0,
  ) {}

  /** Add a measurement; returns true when it shows a clock reset. */
  add(offset: number): boolean {
    let reset = false;
    if (this.current !== undefined && Math.abs(offset - this.current) > this.resetThreshold) {
      this.history.length = 0;
      reset = true;
    }
    this.history.push(offset);
    if (this.history.length > this.window) this.history.shift();
    const s = [...this.history].sort((a, b) => a - b);
    const m = s.length >> 1;
    this.current = s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
    return reset;
  }

  /** The offset to apply now (0 before any measurement). */
  get value(): number {
    return this.current ?? 0;
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
