/**
 * The acquire stage: LSL streams as an RxJS Observable of chunks.
 *
 * Each stream gets its own inlet worker thread (blocking pulls never touch the event
 * loop). Every wake-up drains the inlet, so no stale backlog builds up. Sample
 * continuity is checked against the nominal rate; a lost stream is logged, liblsl
 * (or the worker) reconnects, and the hole becomes one explicit GapEvent.
 */
import { Observable } from 'rxjs';
import type { Chunk, GapEvent, SignalChunk, StreamId, StreamMeta } from '../../src/types.ts';
import { logger } from '../../src/log.ts';
import { spawnTsWorker } from '../../src/util/worker.ts';
import type { InletWorkerConfig, InletWorkerMessage } from './inlet-worker.ts';
import { resolveStreams, type StreamQuery } from './resolve.ts';

const log = logger('lsl.source');

export interface LslSourceOptions {
  /** Seconds to keep trying to find at least one stream before erroring (default: forever). */
  resolveTimeout?: number;
  /** After the first match, wait this long for further matches of the query (s). */
  settle?: number;
  /** Seconds a liblsl inlet buffers before dropping the oldest samples. */
  maxBuflen?: number;
  /** Worker wait granularity (s). */
  pollTimeout?: number;
  /** Seconds without samples before a regular stream is declared lost. */
  stallAfter?: number;
  /** Seconds between lsl_time_correction measurements. */
  timeCorrectionEvery?: number;
  /** Allowed timestamp slack beyond one sample period before a gap is declared (s). */
  continuityTolerance?: number;
  /** Relative mismatch between measured and nominal rate that triggers a warning. */
  rateTolerance?: number;
}

/** Stable id for a stream: survives reconnection when the source sets a source_id. */
export function streamIdOf(m: Pick<StreamMeta, 'name' | 'sourceId' | 'uid'>): StreamId {
  return `${m.name}#${m.sourceId || m.uid.slice(0, 8)}`;
}

/** Tracks continuity, NaNs and effective rate for one stream. */
class StreamMonitor {
  private lastTs: number | undefined;
  private rateT0 = 0;
  private rateN = 0;
  private warnedRate = false;
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
      this.rateT0 = at;
      this.rateN = reset ? 0 : samples;
      if (!reset) return;
    }
    this.rateN += samples;
    const span = at - this.rateT0;
    if (span >= 5) {
      const measured = (this.rateN - samples) / span;
      if (!this.warnedRate && Math.abs(measured - this.srate) / this.srate > this.rateTol) {
        this.warnedRate = true;
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

/**
 * Open one already-resolved stream. Emits StreamOpened (again after reconnection),
 * ClockOffset measurements, GapEvents and the data itself.
 */
export function inletSource(meta: StreamMeta, opts: LslSourceOptions = {}): Observable<Chunk> {
  return new Observable<Chunk>((sub) => {
    const id = streamIdOf(meta);
    if (meta.channelCount < 1) {
      log.error({ stream: meta.name, channelCount: meta.channelCount }, 'stream has no channels; skipped');
      sub.complete();
      return;
    }
    if (meta.format === 'int64') {
      log.error({ stream: meta.name }, 'stream has channel format int64, which is not supported; skipped');
      sub.complete();
      return;
    }
    const control = new SharedArrayBuffer(4);
    const cfg: InletWorkerConfig = {
      meta,
      control,
      pollTimeout: opts.pollTimeout ?? 0.1,
      maxBuflen: opts.maxBuflen ?? 360,
      stallAfter: opts.stallAfter ?? Math.max(1, meta.srate > 0 ? 50 / meta.srate : 1),
      timeCorrectionEvery: opts.timeCorrectionEvery ?? 5,
    };
    const worker = spawnTsWorker(new URL('./inlet-worker.ts', import.meta.url), { workerData: cfg });
    let current = meta;
    const monitor = () =>
      new StreamMonitor(id, current.srate, opts.continuityTolerance ?? Math.max(0.5 / Math.max(current.srate, 1), 0.002), opts.rateTolerance ?? 0.1);
    let mon = monitor();
    let lost = false;
    worker.on('message', (m: InletWorkerMessage) => {
      switch (m.type) {
        case 'open': {
          const reopened = current.uid !== m.meta.uid || lost;
          current = m.meta;
          log.info({ stream: id, name: m.meta.name, channels: m.meta.channelCount, srate: m.meta.srate, format: m.meta.format, reopened }, 'stream opened');
          sub.next({ kind: 'stream', stream: id, meta: m.meta });
          return;
        }
        case 'offset':
          sub.next({ kind: 'clock', stream: id, collectedAt: m.collectedAt, offset: m.offset });
          return;
        case 'stall':
          lost = true;
          log.warn({ stream: id, silentFor: 'stallAfter', lastDataAt: m.lastDataAt }, 'stream lost: no samples; waiting for it to come back');
          return;
        case 'resume':
          log.info({ stream: id }, 'stream is back');
          return;
        case 'error':
          log.error({ stream: id, err: m.message, fatal: m.fatal }, 'inlet error');
          if (m.fatal) sub.error(new Error(`inlet for ${id}: ${m.message}`));
          return;
        case 'data': {
          for (const g of mon.gaps(m.timestamps, lost)) {
            log.warn({ stream: id, tStart: g.tStart, tEnd: g.tEnd, missing: g.missingSamples, reason: g.reason }, 'gap in stream');
            sub.next(g);
          }
          mon.arrived(m.samples, m.receivedAt, lost);
          lost = false;
          if (Array.isArray(m.data)) {
            const C = current.channelCount;
            const markers = C === 1 ? m.data : m.data.filter((_, k) => k % C === 0);
            sub.next({ kind: 'marker', stream: id, markers, timestamps: m.timestamps, ...(C > 1 ? { values: m.data } : {}) });
            return;
          }
          const f32 = m.data instanceof Float32Array ? m.data : Float32Array.from(m.data);
          mon.nans(f32, m.receivedAt);
          const chunk: SignalChunk = { kind: 'signal', stream: id, data: f32, timestamps: m.timestamps, channels: current.channels, srate: current.srate, arrivedAt: m.receivedAt };
          if (!(m.data instanceof Float32Array)) chunk.raw = m.data;
          sub.next(chunk);
          return;
        }
      }
    });
    worker.on('error', (e) => sub.error(e));
    return () => {
      Atomics.store(new Int32Array(control), 0, 1);
      // The worker notices the flag within one poll timeout; terminate as a backstop.
      setTimeout(() => void worker.terminate(), 1000).unref();
    };
  });
}

/**
 * Resolve streams matching `query` (retrying until found) and merge all of them.
 * Use `{ pred: "type='EEG'" }`, `{ prop: 'name', value: 'X' }` or `{ all: true }`.
 */
export function lslSource(query: StreamQuery, opts: LslSourceOptions = {}): Observable<Chunk> {
  return new Observable<Chunk>((sub) => {
    const subs: { unsubscribe(): void }[] = [];
    let closed = false;
    const t0 = Date.now();
    const attempt = async (): Promise<void> => {
      while (!closed) {
        const found = await resolveStreams(query, { timeout: opts.settle ?? 1.0, minimum: 1 });
        if (closed) return;
        if (found.length > 0) {
          for (const meta of found) subs.push(inletSource(meta, opts).subscribe({ next: (c) => sub.next(c), error: (e) => sub.error(e) }));
          return;
        }
        if (opts.resolveTimeout !== undefined && (Date.now() - t0) / 1000 > opts.resolveTimeout) {
          sub.error(new Error(`no LSL stream matched ${JSON.stringify(query)} within ${opts.resolveTimeout} s`));
          return;
        }
        log.info({ query }, 'waiting for LSL streams');
      }
    };
    attempt().catch((e) => sub.error(e));
    return () => {
      closed = true;
      for (const s of subs) s.unsubscribe();
    };
  });
}
