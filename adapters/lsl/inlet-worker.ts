/**
 * One inlet per worker thread: waits on liblsl (blocking, off the event loop),
 * drains everything available on each wake-up so nothing stale accumulates, and
 * posts chunks, clock offsets and stall/resume notices to the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { StreamMeta } from '../../src/types.ts';
import { LslError, StreamInlet, type Pulled, type PulledData } from './inlet.ts';
import { localClock } from './liblsl.ts';

export interface InletWorkerConfig {
  meta: StreamMeta;
  /**
   * Int32Array over a SharedArrayBuffer: [0] != 0 asks the worker to stop; [1] counts
   * data messages posted and not yet handled by the main thread (the worker adds, the
   * main thread subtracts and notifies).
   */
  control: SharedArrayBuffer;
  /** Most data messages in flight to the main thread before the worker stops pulling. */
  maxInFlight: number;
  /** Most seconds of samples in one data message (a backlog goes out in pieces this long). */
  maxChunkSeconds: number;
  pollTimeout: number;
  maxBuflen: number;
  /** Seconds without data (regular streams) before the stream is reported stalled. */
  stallAfter: number;
  timeCorrectionEvery: number;
}

export type InletWorkerMessage =
  | { type: 'open'; meta: StreamMeta }
  | { type: 'data'; data: PulledData; timestamps: Float64Array; samples: number; receivedAt: number; /** Seconds the worker held off pulling because the main thread was behind (0: it was not). */ heldFor: number }
  | { type: 'offset'; collectedAt: number; offset: number }
  | { type: 'stall'; lastDataAt: number }
  | { type: 'resume' }
  | { type: 'error'; message: string; fatal: boolean };

const cfg = workerData as InletWorkerConfig;
const stop = new Int32Array(cfg.control);
/** Index of the in-flight data message count in `stop`'s array. */
const IN_FLIGHT = 1;
const post = (m: InletWorkerMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

/**
 * Wait while the main thread has `maxInFlight` data messages still to handle; returns
 * the seconds waited. The queue between this thread and the main one is thereby
 * bounded, and nothing is dropped: while we wait the samples stay in liblsl's own
 * inlet buffer (max_buflen seconds, set at open), which is a ring sized for exactly
 * this, and are pulled, coalesced into few large messages, once the main thread is
 * back. Dropping or summarising here instead would lose data the recording must keep.
 */
function holdWhileBehind(): number {
  let n = Atomics.load(stop, IN_FLIGHT);
  if (n < cfg.maxInFlight) return 0;
  const t0 = localClock();
  while (n >= cfg.maxInFlight && Atomics.load(stop, 0) === 0) {
    // Woken by the main thread's notify after each message it handles; the timeout
    // only bounds how late a stop request is seen.
    Atomics.wait(stop, IN_FLIGHT, n, Math.max(1, cfg.pollTimeout * 1000));
    n = Atomics.load(stop, IN_FLIGHT);
  }
  return localClock() - t0;
}

function concat(parts: { data: PulledData; timestamps: Float64Array; samples: number }[]): {
  data: PulledData;
  timestamps: Float64Array;
  samples: number;
} {
  if (parts.length === 1) return parts[0]!;
  const samples = parts.reduce((a, p) => a + p.samples, 0);
  const timestamps = new Float64Array(samples);
  let o = 0;
  for (const p of parts) (timestamps.set(p.timestamps, o), (o += p.samples));
  if (Array.isArray(parts[0]!.data)) return { data: parts.flatMap((p) => p.data as string[]), timestamps, samples };
  const first = parts[0]!.data as Exclude<PulledData, string[]>;
  const total = parts.reduce((a, p) => a + p.data.length, 0);
  const data = new (first.constructor as { new (n: number): typeof first })(total);
  o = 0;
  for (const p of parts) ((data as Float32Array).set(p.data as Float32Array, o), (o += p.data.length));
  return { data, timestamps, samples };
}

function predFor(meta: StreamMeta, exact: boolean): string {
  if (exact) return `uid='${meta.uid}'`;
  return [`name='${meta.name}'`, `type='${meta.type}'`, ...(meta.sourceId ? [`source_id='${meta.sourceId}'`] : [])].join(' and ');
}

/** Resolve (blocking, we are in a worker) and open; retries until found or asked to stop. */
function connect(meta: StreamMeta, exact: boolean): StreamInlet | undefined {
  while (Atomics.load(stop, 0) === 0) {
    const inlet = StreamInlet.resolve(predFor(meta, exact), 1.0, { maxBuflen: cfg.maxBuflen, recover: true });
    if (!inlet) {
      exact = false; // the original outlet is gone: accept its successor
      continue;
    }
    try {
      inlet.open(5);
      post({ type: 'open', meta: inlet.fullInfo(5) });
      return inlet;
    } catch (e) {
      // The stream vanished between resolve and open: keep looking for it.
      inlet.close();
      post({ type: 'error', message: `could not open: ${(e as Error).message}; retrying`, fatal: false });
      exact = false;
    }
  }
  return undefined;
}

function run(): void {
  const meta = cfg.meta;
  let inlet = connect(meta, true);
  if (!inlet) return;
  const regular = meta.srate > 0;
  // Drain in blocks of ~100 ms of data (at least 64 samples), at most maxChunkSeconds per message.
  const block = Math.max(64, Math.ceil(meta.srate * 0.1));
  const maxSamples = Math.max(block, Math.ceil(meta.srate * cfg.maxChunkSeconds));
  let lastData = localClock();
  let stalled = false;
  let nextCorrection = 0;
  let heldFor = 0;
  // The newest timestamp posted and when; set while a backlog after a hold is drained.
  let lastTs = NaN;
  let catchUp: { since: number; ts: number } | undefined;
  while (Atomics.load(stop, 0) === 0) {
    try {
      const holdStart = localClock();
      const held = holdWhileBehind();
      if (held > 0) {
        heldFor += held;
        catchUp ??= { since: holdStart, ts: lastTs };
      }
      if (Atomics.load(stop, 0) !== 0) break;
      const now = localClock();
      if (now >= nextCorrection) {
        nextCorrection = now + cfg.timeCorrectionEvery;
        // Short timeouts keep every blocking call under a second, so a stop request is honoured quickly.
        try {
          const offset = inlet.timeCorrection(stalled ? 0.2 : 1);
          post({ type: 'offset', collectedAt: localClock(), offset });
        } catch (e) {
          // No answer (the outlet is gone or busy): the last offset stays in force.
          if (!(e instanceof LslError && e.code === -1)) throw e;
        }
      }
      const first: Pulled = inlet.pull(1, cfg.pollTimeout);
      if (first.samples === 0) {
        if (regular && !stalled && localClock() - lastData > cfg.stallAfter) {
          stalled = true;
          post({ type: 'stall', lastDataAt: lastData });
        }
        continue;
      }
      const parts: Pulled[] = [first];
      let pulled = first.samples;
      let drained = false;
      while (pulled < maxSamples) {
        const want = Math.min(block, maxSamples - pulled);
        const more = inlet.pull(want, 0);
        if (more.samples > 0) {
          parts.push(more);
          pulled += more.samples;
        }
        if (more.samples < want) {
          drained = true;
          break;
        }
      }
      const all = concat(parts);
      lastData = localClock();
      // When the samples reached us. After a hold they sat in liblsl's buffer: their
      // arrival is estimated from the hold's start plus their own timeline (the oldest
      // sample of the message counts), so the pipeline's maximum-age rule still sees
      // how old they are instead of taking them for fresh.
      let receivedAt = lastData;
      if (catchUp) {
        const dt = Number.isFinite(catchUp.ts) && regular ? Math.max(0, all.timestamps[0]! - catchUp.ts) : 0;
        receivedAt = Math.min(lastData, catchUp.since + dt);
        if (drained) catchUp = undefined;
      }
      lastTs = all.timestamps[all.samples - 1]!;
      if (stalled) {
        stalled = false;
        post({ type: 'resume' });
      }
      const transfer = Array.isArray(all.data) ? [all.timestamps.buffer as ArrayBuffer] : [all.data.buffer as ArrayBuffer, all.timestamps.buffer as ArrayBuffer];
      Atomics.add(stop, IN_FLIGHT, 1);
      post({ type: 'data', ...all, receivedAt, heldFor }, transfer);
      heldFor = 0;
    } catch (e) {
      if (e instanceof LslError && e.code === -2) {
        // Unrecoverable loss (no source_id): find the stream again ourselves.
        if (!stalled) (stalled = true), post({ type: 'stall', lastDataAt: lastData });
        inlet.close();
        const again = connect(meta, false);
        if (!again) return;
        inlet = again;
        continue;
      }
      post({ type: 'error', message: (e as Error).message, fatal: false });
      Atomics.wait(stop, 0, 0, 200);
    }
  }
  inlet.close();
}

try {
  run();
} catch (e) {
  post({ type: 'error', message: (e as Error).message, fatal: true });
}
