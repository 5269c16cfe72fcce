/**
 * The clock stage: puts every stream on the local LSL clock.
 * Per stream: add the measured clock offset, detect clock resets, dejitter
 * (regular streams), and monotonize. Our own code because the bundled liblsl
 * (1.10) predates lsl_set_postprocessing.
 */
import { type OperatorFunction, Observable } from 'rxjs';
import type { Chunk, GapEvent, StreamId } from '../types.ts';
import { logger } from '../log.ts';
import { Dejitter, type DejitterOptions } from './dejitter.ts';
import { monotonize, OffsetTracker } from './offsets.ts';

const log = logger('clock');

export interface ClockOptions {
  /** Apply lsl_time_correction offsets (default true). */
  offsets?: boolean;
  /** Dejitter regular streams (default true); options tune the fit. */
  dejitter?: boolean | DejitterOptions;
  /** Clamp timestamps so they never decrease (default true). */
  monotonize?: boolean;
  /** A backward step in raw timestamps larger than this (s) is a clock reset. */
  resetThreshold?: number;
}

interface StreamClock {
  offsets: OffsetTracker;
  dejitter: Dejitter | undefined;
  lastRaw: number;
  lastOut: number;
}

/** Per-stream clock state, usable without RxJS (replay, tests). */
export class ClockCorrector {
  private readonly streams = new Map<StreamId, StreamClock>();
  constructor(private readonly opts: ClockOptions = {}) {}

  private get(id: StreamId, srate: number): StreamClock {
    let s = this.streams.get(id);
    if (!s) {
      const dj = this.opts.dejitter ?? true;
      s = {
        offsets: new OffsetTracker(5, this.opts.resetThreshold ?? 1.0),
        dejitter: dj && srate > 0 ? new Dejitter(srate, typeof dj === 'object' ? dj : {}) : undefined,
        lastRaw: -Infinity,
        lastOut: -Infinity,
      };
      this.streams.set(id, s);
    }
    return s;
  }

  /** Fit state of a stream's dejitter (estimated rate, jitter), if any. */
  dejitterState(id: StreamId) {
    return this.streams.get(id)?.dejitter?.state();
  }

  /** Correct one chunk; may return an extra GapEvent (clock reset) to emit before it. */
  process(c: Chunk): Chunk[] {
    switch (c.kind) {
      case 'stream':
        return [c];
      case 'clock': {
        const s = this.streams.get(c.stream) ?? this.get(c.stream, 0);
        if (this.opts.offsets !== false && s.offsets.add(c.offset, c.collectedAt)) {
          log.warn({ stream: c.stream, offset: c.offset }, 'clock offset jumped: remote clock reset');
          s.dejitter?.reset();
        }
        return [c];
      }
      case 'gap': {
        const s = this.streams.get(c.stream);
        s?.dejitter?.skip(c.missingSamples);
        const off = this.opts.offsets === false || !s ? 0 : s.offsets.at(c.tStart);
        return [{ ...c, tStart: c.tStart + off, tEnd: c.tEnd + off }];
      }
      case 'marker':
      case 'signal': {
        const srate = c.kind === 'signal' ? c.srate : 0;
        const s = this.get(c.stream, srate);
        const raw = c.timestamps;
        const out: Chunk[] = [];
        if (raw.length && raw[0]! < s.lastRaw - (this.opts.resetThreshold ?? 1.0)) {
          log.warn({ stream: c.stream, from: s.lastRaw, to: raw[0] }, 'timestamps stepped backwards: clock reset');
          const reset: GapEvent = { kind: 'gap', stream: c.stream, tStart: s.lastOut, tEnd: s.lastOut, missingSamples: 0, reason: 'clock-reset' };
          out.push(reset);
          s.dejitter?.reset();
          s.lastOut = -Infinity;
        }
        if (raw.length) s.lastRaw = raw[raw.length - 1]!;
        const ts = new Float64Array(raw);
        if (this.opts.offsets !== false) for (let i = 0; i < ts.length; i++) ts[i]! += s.offsets.at(ts[i]!);
        if (s.dejitter) s.dejitter.process(ts);
        if (this.opts.monotonize !== false) monotonize(ts, s.lastOut);
        if (ts.length) s.lastOut = ts[ts.length - 1]!;
        out.push({ ...c, timestamps: ts });
        return out;
      }
    }
  }
}

/** RxJS operator form of the clock stage. */
export function clock(opts: ClockOptions = {}): OperatorFunction<Chunk, Chunk> {
  return (source) =>
    new Observable<Chunk>((sub) => {
      const cc = new ClockCorrector(opts);
      return source.subscribe({
        next: (c) => {
          for (const o of cc.process(c)) sub.next(o);
        },
        error: (e) => sub.error(e),
        complete: () => sub.complete(),
      });
    });
}
