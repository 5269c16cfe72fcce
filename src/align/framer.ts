/**
 * The align stage: cuts every stream into frames [t, t+hop) on the common clock.
 *
 * A frame is emitted once the watermark (the earliest "latest timestamp" among live
 * signal streams) has passed its end. A stream silent for longer than `maxLateness`
 * no longer holds the watermark back; its absence is explicit in the frame
 * (present = false), never silently zero-filled.
 */
import type { ChannelInfo, Chunk, GapEvent, StreamId } from '../types.ts';
import { localClock } from '../util/clock.ts';

export interface FrameStream {
  present: boolean;
  srate: number;
  channels: ChannelInfo[];
  /** Identity of the buffer these samples came from (changes when a stream restarts or changes shape). */
  ringId: number;
  /** Absolute index (since `ringId` began) one past the newest sample in `window`. */
  endIndex: number;
  /**
   * The last `windowSamples` samples ending at the frame end (samples × channels).
   * May be a view into the framer's buffer: read it before the next chunk is pushed.
   */
  window: Float32Array;
  windowSamples: number;
  /** Samples of this stream whose timestamps fall inside [tStart, tEnd). */
  newSamples: number;
  /** Gaps of this stream that overlap the frame. */
  gaps: GapEvent[];
}

export interface FrameMarker {
  stream: StreamId;
  t: number;
  value: string;
}

export interface Frame {
  seq: number;
  tStart: number;
  tEnd: number;
  streams: Map<StreamId, FrameStream>;
  markers: FrameMarker[];
  /** Local time at which the last sample of this frame reached the inlet (for latency). */
  arrivedAt: number;
}

export interface FramerOptions {
  /** Frame hop in seconds (default 0.08 = 12.5 Hz). */
  hop?: number;
  /** Analysis window per stream, seconds ending at the frame end (default 1.0). */
  window?: number;
  /** Seconds (wall clock) a stream may fall silent before frames go on without it. */
  maxLateness?: number;
}

let nextRingId = 1;

interface Ring {
  id: number;
  srate: number;
  channels: ChannelInfo[];
  C: number;
  cap: number;
  data: Float32Array;
  ts: Float64Array;
  arrived: Float64Array;
  head: number; // total samples ever written
  lastTs: number;
  lastArrival: number; // local time of the last chunk
  gaps: GapEvent[];
}

export class Framer {
  private readonly hop: number;
  private readonly win: number;
  private readonly maxLateness: number;
  private readonly rings = new Map<StreamId, Ring>();
  private markers: FrameMarker[] = [];
  private next: number | undefined;
  private seq = 0;

  constructor(opts: FramerOptions = {}) {
    this.hop = opts.hop ?? 0.08;
    this.win = opts.window ?? 1.0;
    this.maxLateness = opts.maxLateness ?? 0.5;
    if (!(this.hop > 0)) throw new Error(`frame hop must be > 0, got ${this.hop}`);
  }

  private ring(id: StreamId, srate: number, channels: ChannelInfo[]): Ring {
    let r = this.rings.get(id);
    if (!r || r.C !== channels.length || r.srate !== srate) {
      // Several windows long, so most windows lie contiguously in the ring (no copy).
      const cap = Math.max(16, Math.ceil((4 * this.win + Math.min(this.maxLateness, 10) + 2 * this.hop + 1) * srate));
      r = {
        id: nextRingId++, srate, channels, C: channels.length, cap,
        data: new Float32Array(cap * channels.length),
        ts: new Float64Array(cap), arrived: new Float64Array(cap),
        head: 0, lastTs: -Infinity, lastArrival: localClock(), gaps: [],
      };
      this.rings.set(id, r);
    }
    return r;
  }

  /** Feed one chunk; returns the frames it completes. `arrivedAt` defaults to now. */
  push(c: Chunk, arrivedAt = localClock()): Frame[] {
    if (c.kind === 'signal') {
      if (c.srate <= 0 || c.channels.length === 0) return [];
      const r = this.ring(c.stream, c.srate, c.channels);
      const n = c.timestamps.length;
      // Block copies into the ring (at most two when it wraps).
      for (let i = 0; i < n; ) {
        const slot = r.head % r.cap;
        const m = Math.min(n - i, r.cap - slot);
        r.data.set(c.data.subarray(i * r.C, (i + m) * r.C), slot * r.C);
        r.ts.set(c.timestamps.subarray(i, i + m), slot);
        r.arrived.fill(arrivedAt, slot, slot + m);
        r.head += m;
        i += m;
      }
      if (n) r.lastTs = c.timestamps[n - 1]!;
      r.lastArrival = arrivedAt;
      if (this.next === undefined && n) this.next = Math.floor(c.timestamps[0]! / this.hop) * this.hop + this.hop;
    } else if (c.kind === 'marker') {
      for (let i = 0; i < c.markers.length; i++) this.markers.push({ stream: c.stream, t: c.timestamps[i]!, value: c.markers[i]! });
    } else if (c.kind === 'gap') {
      if (c.reason === 'clock-reset') {
        // The stream's timestamps stepped back: its ring and the frame grid belong to
        // the old timeline, and no new sample would ever reach the next frame's end.
        // Start both again from the stream's next chunk.
        this.rings.delete(c.stream);
        this.next = undefined;
      } else this.rings.get(c.stream)?.gaps.push(c);
    }
    return this.drain(localClock());
  }

  /** Emit frames whose end has passed the watermark (call periodically too, for silent streams). */
  drain(now = localClock()): Frame[] {
    const out: Frame[] = [];
    if (this.next === undefined) return out;
    for (;;) {
      const end: number = this.next;
      let watermark = Infinity;
      let any = false;
      for (const r of this.rings.values()) {
        if (now - r.lastArrival > this.maxLateness) continue;
        any = true;
        // The next sample is due one period after the last one (99 % of it, leaving room for
        // clock drift), so a frame is complete once that point passes its end: no waiting
        // for the next chunk.
        watermark = Math.min(watermark, r.lastTs + 0.99 / r.srate);
      }
      if (!any || watermark < end) break;
      out.push(this.cut(end - this.hop, end, now));
      this.next = end + this.hop;
    }
    return out;
  }

  private cut(tStart: number, tEnd: number, now: number): Frame {
    const streams = new Map<StreamId, FrameStream>();
    let arrivedAt = -Infinity;
    for (const [id, r] of this.rings) {
      const live = now - r.lastArrival <= this.maxLateness;
      const W = Math.round(this.win * r.srate);
      // Newest sample with t < tEnd, walking back from the head.
      let idx = r.head - 1;
      const oldest = Math.max(0, r.head - r.cap);
      while (idx >= oldest && r.ts[idx % r.cap]! >= tEnd) idx--;
      let newSamples = 0;
      const filled = Math.min(W, idx - oldest + 1);
      const lastSlot = idx % r.cap;
      let window: Float32Array;
      if (filled === W && lastSlot + 1 >= W) {
        // The window lies contiguously in the ring: hand out a view, no copy (it is
        // valid until the next push, which is when every consumer has used it).
        window = r.data.subarray((lastSlot + 1 - W) * r.C, (lastSlot + 1) * r.C);
      } else {
        window = new Float32Array(W * r.C);
        // Copy the newest `filled` rows in at most two contiguous blocks (the ring wraps).
        for (let done = 0; done < filled; ) {
          const last = (idx - done) % r.cap;
          const n = Math.min(filled - done, last + 1);
          window.set(r.data.subarray((last - n + 1) * r.C, (last + 1) * r.C), (W - done - n) * r.C);
          done += n;
        }
      }
      for (let k = idx; k > idx - filled; k--) {
        const slot = k % r.cap;
        if (r.ts[slot]! < tStart) break;
        newSamples++;
        arrivedAt = Math.max(arrivedAt, r.arrived[slot]!);
      }
      const gaps = r.gaps.filter((g) => g.tEnd >= tStart - 1 / r.srate && g.tStart < tEnd);
      r.gaps = r.gaps.filter((g) => g.tEnd >= tEnd);
      streams.set(id, { present: live && newSamples > 0, ringId: r.id, endIndex: idx + 1, srate: r.srate, channels: r.channels, window, windowSamples: W, newSamples, gaps });
    }
    const markers = this.markers.filter((m) => m.t < tEnd);
    this.markers = this.markers.filter((m) => m.t >= tEnd);
    return { seq: this.seq++, tStart, tEnd, streams, markers, arrivedAt: Number.isFinite(arrivedAt) ? arrivedAt : now };
  }
}
