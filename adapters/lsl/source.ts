/**
 * The acquire stage: LSL streams as an RxJS Observable of chunks.
 *
 * Each stream gets its own inlet worker thread (blocking pulls never touch the event
 * loop). Every wake-up drains the inlet, so no stale backlog builds up. Sample
 * continuity is checked against the nominal rate; a lost stream is logged, liblsl
 * (or the worker) reconnects, and the hole becomes one explicit GapEvent.
 */
import { Observable } from 'rxjs';
import type { Chunk, SignalChunk, StreamId, StreamMeta } from '../../src/types.ts';
import { StreamMonitor } from '../../src/acquire/continuity.ts';
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
  /**
   * Most chunks on their way from an inlet worker to this thread (default 8). Past it
   * the worker stops pulling and the samples wait in liblsl's buffer (`maxBuflen`), so
   * a blocked event loop never builds an unbounded message queue and nothing is dropped.
   */
  maxInFlight?: number;
  /** Most seconds of samples in one chunk from the worker (default 1): a backlog arrives in pieces. */
  maxChunkSeconds?: number;
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
  /** Keep looking for further matching streams after the first ones (default true). */
  watch?: boolean;
  /** Seconds between those looks (default 2). */
  watchEvery?: number;
  /** Told when a stream is lost and when it is back (besides the log lines). */
  onStatus?: (e: { stream: StreamId; state: 'lost' | 'resumed' | 'opened' }) => void;
}

const liveWorkers = new Set<Promise<void>>();

/**
 * Wait until every inlet worker has stopped (after unsubscribing). Call before
 * process.exit so no thread is inside liblsl when the process goes away.
 */
export async function closeAllInlets(): Promise<void> {
  await Promise.all([...liveWorkers]);
}

/** Stable id for a stream: survives reconnection when the source sets a source_id. */
export function streamIdOf(m: Pick<StreamMeta, 'name' | 'sourceId' | 'uid'>): StreamId {
  return `${m.name}#${m.sourceId || m.uid.slice(0, 8)}`;
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
    // [0]: stop request; [1]: data messages in flight (see InletWorkerConfig.control).
    const control = new SharedArrayBuffer(8);
    const ctl = new Int32Array(control);
    const cfg: InletWorkerConfig = {
      meta,
      control,
      maxInFlight: Math.max(1, opts.maxInFlight ?? 8),
      maxChunkSeconds: opts.maxChunkSeconds ?? 1,
      pollTimeout: opts.pollTimeout ?? 0.1,
      maxBuflen: opts.maxBuflen ?? 360,
      stallAfter: opts.stallAfter ?? Math.max(1, meta.srate > 0 ? 50 / meta.srate : 1),
      timeCorrectionEvery: opts.timeCorrectionEvery ?? 5,
    };
    const worker = spawnTsWorker(new URL('./inlet-worker.ts', import.meta.url), { workerData: cfg });
    const exited = new Promise<void>((r) => worker.once('exit', () => r()));
    liveWorkers.add(exited);
    void exited.then(() => liveWorkers.delete(exited));
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
          opts.onStatus?.({ stream: id, state: 'opened' });
          return;
        }
        case 'offset':
          sub.next({ kind: 'clock', stream: id, collectedAt: m.collectedAt, offset: m.offset });
          return;
        case 'stall':
          lost = true;
          log.warn({ stream: id, lastDataAt: m.lastDataAt }, 'stream lost: no samples; waiting for it to come back');
          opts.onStatus?.({ stream: id, state: 'lost' });
          return;
        case 'resume':
          log.info({ stream: id }, 'stream is back');
          opts.onStatus?.({ stream: id, state: 'resumed' });
          return;
        case 'error':
          log.error({ stream: id, err: m.message, fatal: m.fatal }, 'inlet error');
          if (m.fatal) sub.error(new Error(`inlet for ${id}: ${m.message}`));
          return;
        case 'data': {
          // Handled: one fewer in flight; wake the worker if it is holding back.
          Atomics.sub(ctl, 1, 1);
          Atomics.notify(ctl, 1);
          if (m.heldFor >= 0.5) log.warn({ stream: id, heldFor: +m.heldFor.toFixed(3), samples: m.samples }, 'event loop was behind: samples waited in the liblsl buffer, now delivered');
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
      Atomics.store(ctl, 0, 1);
      Atomics.notify(ctl, 1); // a worker holding back sees the stop at once
      // The worker notices the flag after its current liblsl call (≤ 1 s) and exits by
      // itself. It is never terminated: a thread killed inside a native call aborts the
      // whole process.
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
    // One inlet per stream identity: its source_id, else name + type (a restarted
    // outlet without a source_id is re-found by the inlet worker itself).
    const opened = new Set<string>();
    const identity = (m: StreamMeta) => m.sourceId || `${m.name}|${m.type}`;
    let closed = false;
    let watch: ReturnType<typeof setTimeout> | undefined;
    const t0 = Date.now();
    const open = (found: StreamMeta[]) => {
      for (const meta of found) {
        if (opened.has(identity(meta))) continue;
        opened.add(identity(meta));
        subs.push(
          inletSource(meta, opts).subscribe({
            next: (c) => sub.next(c),
            // One broken stream must not take the others down: log it and drop it.
            error: (e) => log.error({ stream: meta.name, err: (e as Error).message }, 'stream dropped after an unrecoverable error'),
          }),
        );
      }
    };
    // Streams that appear later (a marker stream started after the runtime) join too.
    const keepWatching = () => {
      if (closed || opts.watch === false) return;
      watch = setTimeout(() => {
        resolveStreams(query, { timeout: 0.5, minimum: 1 })
          .then((found) => {
            if (closed) return;
            const fresh = found.filter((m) => !opened.has(identity(m)));
            if (fresh.length) log.info({ streams: fresh.map((m) => m.name) }, 'new matching streams');
            open(fresh);
          })
          .catch((e) => log.warn({ err: (e as Error).message }, 'stream watch failed'))
          .finally(keepWatching);
      }, (opts.watchEvery ?? 2) * 1000);
    };
    const attempt = async (): Promise<void> => {
      while (!closed) {
        const found = await resolveStreams(query, { timeout: opts.settle ?? 1.0, minimum: 1 });
        if (closed) return;
        if (found.length > 0) {
          open(found);
          keepWatching();
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
      if (watch) clearTimeout(watch);
      for (const s of subs) s.unsubscribe();
    };
  });
}
