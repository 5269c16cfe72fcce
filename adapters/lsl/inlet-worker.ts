/**
 * One inlet per worker thread: waits on liblsl (blocking, off the event loop),
 * drains everything available on each wake-up so nothing stale accumulates, and
 * posts chunks, clock offsets and stall/resume notices to the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { StreamMeta } from '../../src/types.ts';
import { LslError, StreamInlet, type PulledData } from './inlet.ts';
import { localClock } from './liblsl.ts';

export interface InletWorkerConfig {
  meta: StreamMeta;
  /** Int32Array over a SharedArrayBuffer: [0] != 0 asks the worker to stop. */
  control: SharedArrayBuffer;
  pollTimeout: number;
  maxBuflen: number;
  /** Seconds without data (regular streams) before the stream is reported stalled. */
  stallAfter: number;
  timeCorrectionEvery: number;
}

export type InletWorkerMessage =
  | { type: 'open'; meta: StreamMeta }
  | { type: 'data'; data: PulledData; timestamps: Float64Array; samples: number; receivedAt: number }
  | { type: 'offset'; collectedAt: number; offset: number }
  | { type: 'stall'; lastDataAt: number }
  | { type: 'resume' }
  | { type: 'error'; message: string; fatal: boolean };

const cfg = workerData as InletWorkerConfig;
const stop = new Int32Array(cfg.control);
const post = (m: InletWorkerMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

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
  // Drain in blocks of ~100 ms of data (at least 64 samples).
  const block = Math.max(64, Math.ceil(meta.srate * 0.1));
  let lastData = localClock();
  let stalled = false;
  let nextCorrection = 0;
  while (Atomics.load(stop, 0) === 0) {
    try {
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
      const first = inlet.pull(1, cfg.pollTimeout);
      if (first.samples === 0) {
        if (regular && !stalled && localClock() - lastData > cfg.stallAfter) {
          stalled = true;
          post({ type: 'stall', lastDataAt: lastData });
        }
        continue;
      }
      const parts = [first];
      for (;;) {
        const more = inlet.pull(block, 0);
        if (more.samples > 0) parts.push(more);
        if (more.samples < block) break;
      }
      const all = concat(parts);
      lastData = localClock();
      if (stalled) {
        stalled = false;
        post({ type: 'resume' });
      }
      const transfer = Array.isArray(all.data) ? [all.timestamps.buffer as ArrayBuffer] : [all.data.buffer as ArrayBuffer, all.timestamps.buffer as ArrayBuffer];
      post({ type: 'data', ...all, receivedAt: lastData }, transfer);
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
