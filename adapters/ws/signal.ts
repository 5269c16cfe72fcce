/**
 * Decimated traces for the `signal` and `features` topics. Each stream's samples
 * are averaged in blocks down to about `targetHz` (a boxcar: enough for plotting,
 * and it never aliases worse than the plot's own pixel decimation) and kept for
 * `seconds`; every client reads from its own cursor, so one slow client costs the
 * others nothing.
 */

export interface SignalStreamInfo {
  id: string;
  names: string[];
  /** Decimated rate (Hz). */
  srate: number;
}

class Ring {
  readonly data: Float32Array;
  readonly times: Float64Array;
  /** Absolute index of the next sample to be written. */
  end = 0;
  // Block being averaged.
  private acc: Float64Array;
  private accN = 0;
  private accT = 0;

  constructor(readonly info: SignalStreamInfo, readonly factor: number, readonly capacity: number) {
    this.data = new Float32Array(capacity * info.names.length);
    this.times = new Float64Array(capacity);
    this.acc = new Float64Array(info.names.length);
  }

  push(data: Float32Array, timestamps: Float64Array): void {
    const C = this.info.names.length;
    const n = timestamps.length;
    for (let i = 0; i < n; i++) {
      if (this.accN === 0) this.accT = timestamps[i]!;
      for (let c = 0; c < C; c++) {
        const v = data[i * C + c]!;
        this.acc[c]! += Number.isFinite(v) ? v : 0;
      }
      if (++this.accN < this.factor) continue;
      const slot = this.end % this.capacity;
      for (let c = 0; c < C; c++) this.data[slot * C + c] = this.acc[c]! / this.accN;
      this.times[slot] = this.accT;
      this.acc.fill(0);
      this.accN = 0;
      this.end++;
    }
  }

  get start(): number {
    return Math.max(0, this.end - this.capacity);
  }
}

export class SignalBuffer {
  private readonly rings = new Map<string, Ring>();

  constructor(private readonly targetHz = 100, private readonly seconds = 10) {}

  /** Add samples (samples × channels, row-major) of a stream; a stream whose layout changed starts over. */
  push(stream: string, names: string[], srate: number, data: Float32Array, timestamps: Float64Array): void {
    let r = this.rings.get(stream);
    if (!r || r.info.names.length !== names.length) {
      const factor = Math.max(1, Math.round((srate || this.targetHz) / this.targetHz));
      const rate = (srate || this.targetHz) / factor;
      r = new Ring({ id: stream, names, srate: rate }, factor, Math.max(16, Math.ceil(rate * this.seconds)));
      this.rings.set(stream, r);
    }
    r.push(data, timestamps);
  }

  streams(): SignalStreamInfo[] {
    return [...this.rings.values()].map((r) => r.info);
  }

  /** The first stream, or the one named. */
  pick(stream?: string): SignalStreamInfo | undefined {
    return stream ? this.rings.get(stream)?.info : this.rings.values().next().value?.info;
  }

  /** Index one past the newest decimated sample of a stream. */
  end(stream: string): number {
    return this.rings.get(stream)?.end ?? 0;
  }

  /**
   * Samples from `from` (absolute index) to the newest, for `channels`; `skipped`
   * counts samples that were overwritten before this reader got to them.
   */
  read(stream: string, from: number, channels: number[]): { t0: number; traces: number[][]; next: number; skipped: number } | undefined {
    const r = this.rings.get(stream);
    if (!r || r.end <= from) return undefined;
    const start = Math.max(from, r.start);
    const C = r.info.names.length;
    const chans = channels.filter((c) => c < C);
    const traces = chans.map(() => [] as number[]);
    for (let i = start; i < r.end; i++) {
      const slot = i % r.capacity;
      for (let k = 0; k < chans.length; k++) traces[k]!.push(r.data[slot * C + chans[k]!]!);
    }
    return { t0: r.times[start % r.capacity]!, traces, next: r.end, skipped: start - from };
  }

  /** log10 of each channel's variance over the last `seconds` (a cheap band-power feature). */
  logPower(stream: string, seconds = 1): { t: number; names: string[]; values: number[] } | undefined {
    const r = this.rings.get(stream);
    if (!r || r.end === 0) return undefined;
    const C = r.info.names.length;
    const n = Math.min(r.end - r.start, Math.max(2, Math.round(r.info.srate * seconds)));
    const values: number[] = [];
    for (let c = 0; c < C; c++) {
      let s = 0;
      let s2 = 0;
      for (let i = r.end - n; i < r.end; i++) {
        const v = r.data[(i % r.capacity) * C + c]!;
        s += v;
        s2 += v * v;
      }
      const varc = Math.max(0, s2 / n - (s / n) ** 2);
      values.push(varc > 0 ? Math.log10(varc) : -99);
    }
    return { t: r.times[(r.end - 1) % r.capacity]!, names: r.info.names, values };
  }
}
