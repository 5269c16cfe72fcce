/**
 * What the `health` topic reports, gathered from the acquired chunks and the
 * intents: per stream the measured rate, gaps, clock offset and channels that
 * look bad (flat or not finite over the last interval), and the intent latency
 * percentiles of the last minute.
 */
import type { Chunk, Intent } from '../../src/types.ts';
import type { HealthMessage } from './protocol.ts';

interface StreamHealth {
  name: string;
  nominal: number;
  names: string[];
  samples: number;
  gaps: number;
  missingSamples: number;
  clockOffset: number;
  min: Float64Array;
  max: Float64Array;
  nonFinite: Uint32Array;
  rate: number;
}

/** Percentile by linear interpolation between order statistics (numpy's default). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const x = (sorted.length - 1) * p;
  const lo = Math.floor(x);
  const hi = Math.ceil(x);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (x - lo);
}

export class HealthTracker {
  private readonly streams = new Map<string, StreamHealth>();
  /** [tEmit, latencyMs] of recent intents, oldest first. */
  private latencies: [number, number][] = [];
  private lastSnapshot: number | undefined;
  intents = 0;

  /** `bad`: channels the dsp stage's detector marks bad, added to the flat / non-finite ones. */
  constructor(private readonly bad: (stream: string) => readonly string[] = () => [], private readonly windowS = 60) {}

  private stream(id: string): StreamHealth {
    let s = this.streams.get(id);
    if (!s) {
      s = { name: id, nominal: 0, names: [], samples: 0, gaps: 0, missingSamples: 0, clockOffset: 0, min: new Float64Array(0), max: new Float64Array(0), nonFinite: new Uint32Array(0), rate: 0 };
      this.streams.set(id, s);
    }
    return s;
  }

  /** An acquired chunk (before the clock stage). */
  chunk(c: Chunk): void {
    if (c.kind === 'stream') {
      const s = this.stream(c.stream);
      s.name = c.meta.name;
      s.nominal = c.meta.srate;
      s.names = c.meta.channels.map((ch, k) => ch.label || `ch${k + 1}`);
      return;
    }
    if (c.kind === 'gap') {
      const s = this.stream(c.stream);
      s.gaps++;
      s.missingSamples += c.missingSamples;
      return;
    }
    if (c.kind === 'clock') {
      this.stream(c.stream).clockOffset = c.offset;
      return;
    }
    if (c.kind !== 'signal') return;
    const s = this.stream(c.stream);
    const C = c.channels.length;
    if (C === 0) return;
    if (s.min.length !== C) this.resetRange(s, C);
    if (s.names.length !== C) s.names = c.channels.map((ch, k) => ch.label || `ch${k + 1}`);
    if (!s.nominal) s.nominal = c.srate;
    const n = c.data.length / C;
    s.samples += n;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < C; k++) {
        const v = c.data[i * C + k]!;
        if (!Number.isFinite(v)) s.nonFinite[k]!++;
        else {
          if (v < s.min[k]!) s.min[k] = v;
          if (v > s.max[k]!) s.max[k] = v;
        }
      }
    }
  }

  private resetRange(s: StreamHealth, C: number): void {
    s.min = new Float64Array(C).fill(Infinity);
    s.max = new Float64Array(C).fill(-Infinity);
    s.nonFinite = new Uint32Array(C);
  }

  intent(i: Intent): void {
    this.intents++;
    this.latencies.push([i.tEmit, i.latencyMs]);
    const cut = i.tEmit - this.windowS;
    let k = 0;
    while (k < this.latencies.length && this.latencies[k]![0] < cut) k++;
    if (k > 0) this.latencies = this.latencies.slice(k);
  }

  /** The health since the last snapshot (rates, bad channels) and of the last minute (latency). */
  snapshot(now: number, state: HealthMessage['state']): Omit<HealthMessage, 'type' | 'client' | 'clients'> {
    const dt = this.lastSnapshot === undefined ? undefined : now - this.lastSnapshot;
    this.lastSnapshot = now;
    const streams: HealthMessage['streams'] = [];
    for (const [id, s] of this.streams) {
      if (dt !== undefined && dt > 0) s.rate = s.samples / dt;
      const bad: string[] = [...this.bad(id)];
      // A channel is bad when any sample was not finite, or it did not move over a full interval.
      for (let k = 0; k < s.min.length; k++) {
        if (s.nonFinite[k]! > 0 || (s.samples >= Math.max(2, s.nominal * 0.5) && s.max[k]! - s.min[k]! === 0)) if (!bad.includes(s.names[k] ?? `ch${k + 1}`)) bad.push(s.names[k] ?? `ch${k + 1}`);
      }
      streams.push({ id, name: s.name, rate: +s.rate.toFixed(2), nominal: s.nominal, gaps: s.gaps, missingSamples: s.missingSamples, badChannels: bad, clockOffset: s.clockOffset });
      s.samples = 0;
      this.resetRange(s, s.min.length);
    }
    const lat = this.latencies.filter(([t]) => t >= now - this.windowS).map(([, l]) => l).sort((a, b) => a - b);
    return {
      t: now, state, streams, intents: this.intents,
      latencyMs: { n: lat.length, p50: percentile(lat, 0.5), p90: percentile(lat, 0.9), p99: percentile(lat, 0.99), max: lat.length ? lat[lat.length - 1]! : 0 },
    };
  }
}
