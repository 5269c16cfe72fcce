/**
 * ONNX Runtime session in a worker thread. After 'attach' the worker leaves
 * the message loop and serves steps through shared memory: it blocks in
 * Atomics.wait on the request counter, reads the inputs from the shared data
 * buffer, runs the session, writes the outputs back and Atomics.notify()s the
 * caller (see protocol.ts for the layout).
 */
import { parentPort, workerData, receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { logger } from '../log.ts';
import { CTL, CTL_INTS, F64, CMD_STEP, CMD_REMAP, CMD_CLOSE, ERR_BYTES, layout, type StepDims, type WorkerRequest, type WorkerResponse, type WorkerInit } from './protocol.ts';

const log = logger('model-worker');
const init = workerData as WorkerInit & { entry: string };
let session: ort.InferenceSession | null = null;

/** onnxruntime-node's native session: run() is synchronous (the public API wraps it in setImmediate + a Promise). */
interface NativeSession {
  loadModel(path: string, options: ort.InferenceSession.SessionOptions): void;
  run(feeds: Record<string, ort.Tensor>, fetches: Record<string, null>, options: object): Record<string, { data: unknown }>;
  dispose(): void;
}
let native: NativeSession | null = null;
let sessionOptions: ort.InferenceSession.SessionOptions = {};

/**
 * Open the same model on the binding's synchronous session so a step is one
 * native call on this thread, with no event-loop hop. Falls back to the public
 * (async) API if the binding's layout differs in another onnxruntime-node.
 */
async function openNative(): Promise<void> {
  if (process.env.NEUROX_ORT_ASYNC === '1') return;
  try {
    const mod = (await import('onnxruntime-node/dist/binding.js' as string)) as { binding?: { InferenceSession?: new () => NativeSession }; default?: { binding?: { InferenceSession?: new () => NativeSession } } };
    const Ctor = mod.binding?.InferenceSession ?? mod.default?.binding?.InferenceSession;
    if (!Ctor) return;
    const n = new Ctor();
    n.loadModel(init.path, sessionOptions);
    native = n;
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'synchronous ORT binding unavailable; using the async API');
  }
}

async function open(): Promise<WorkerResponse> {
  const base: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: init.intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: init.optimization,
    // Fold DequantizeLinear of constant int8 weights into float32 weights at load:
    // the int8 file then runs as fast as float and equals its dequantised twin.
    extra: { session: { disable_quant_qdq: init.optimization === 'basic' ? '1' : '0' } },
  } as ort.InferenceSession.SessionOptions;
  let backend = 'cpu';
  let fallbackReason: string | undefined;
  if (init.device === 'gpu') {
    try {
      session = await ort.InferenceSession.create(init.path, { ...base, executionProviders: ['cuda', 'cpu'] });
      backend = 'cuda';
    } catch (e) {
      fallbackReason = `CUDA execution provider unavailable (${(e as Error).message.split('\n')[0]}); running on CPU`;
      log.warn({ reason: fallbackReason }, 'gpu requested, falling back to CPU');
    }
  }
  if (!session) session = await ort.InferenceSession.create(init.path, { ...base, executionProviders: ['cpu'] });
  sessionOptions = { ...base, executionProviders: [backend === 'cuda' ? 'cuda' : 'cpu'] };
  const meta = (m: readonly ort.InferenceSession.ValueMetadata[]) =>
    m.map((v) => ({ name: v.name, shape: v.isTensor ? [...v.shape] : [], type: v.isTensor ? v.type : 'other' }));
  return {
    type: 'ready',
    backend,
    fallbackReason,
    inputs: meta(session.inputMetadata),
    outputs: meta(session.outputMetadata),
  };
}

const locals: Float32Array[] = [];
/** Copy data[off, off+n) into a reused local buffer for input slot `slot`. */
function local(slot: number, data: Float32Array, off: number, n: number): Float32Array {
  let b = locals[slot];
  if (!b || b.length !== n) b = locals[slot] = new Float32Array(n);
  b.set(data.subarray(off, off + n));
  return b;
}

/** Serve steps from shared memory until CMD_CLOSE. */
async function serve(ctlBuf: SharedArrayBuffer, dataBuf: SharedArrayBuffer, port: MessagePort, d: StepDims): Promise<void> {
  const ctl = new Int32Array(ctlBuf, 0, CTL_INTS);
  const f64 = new Float64Array(ctlBuf, CTL_INTS * 4, 2);
  let data = new Float32Array(dataBuf);
  let bytes = new Uint8Array(dataBuf);
  const s = session!;
  const hasSpeech = s.inputNames.includes('speech');
  const hasText = s.inputNames.includes('text');
  const hasSurprise = s.outputNames.includes('surprise');
  const i64 = (v: number) => new ort.Tensor('int64', BigInt64Array.of(BigInt(v)), [1]);
  const fetches: Record<string, null> = Object.fromEntries(s.outputNames.map((n) => [n, null]));
  // the last request served (the caller may already have posted the next one)
  let seen = Atomics.load(ctl, CTL.DONE);
  for (;;) {
    Atomics.wait(ctl, CTL.SEQ, seen);
    seen = Atomics.load(ctl, CTL.SEQ);
    const cmd = Atomics.load(ctl, CTL.CMD);
    if (cmd === CMD_CLOSE) {
      native?.dispose();
      native = null;
      await s.release();
      session = null;
      Atomics.store(ctl, CTL.STATUS, 0);
      Atomics.store(ctl, CTL.DONE, seen);
      Atomics.notify(ctl, CTL.DONE);
      return;
    }
    try {
      if (cmd === CMD_REMAP) {
        const m = receiveMessageOnPort(port);
        if (!m) throw new Error('remap without a buffer');
        data = new Float32Array(m.message as SharedArrayBuffer);
        bytes = new Uint8Array(m.message as SharedArrayBuffer);
      } else if (cmd === CMD_STEP) {
        const C = ctl[CTL.C];
        const T = ctl[CTL.T];
        const lo = layout(d, C, T, 0, 0);
        // ORT does not take views of shared memory: copy into reused per-input buffers (a few KB)
        const feeds: Record<string, ort.Tensor> = {
          x: new ort.Tensor('float32', local(0, data, lo.x, C * d.F), [1, C, d.F]),
          pos_code: new ort.Tensor('float32', local(1, data, lo.pos, C * d.P), [1, C, d.P]),
          t: i64(ctl[CTL.POS_T]),
          past_k: new ort.Tensor('float32', local(2, data, lo.pastK, lo.kv), [d.L, d.H, T, d.Dh]),
          past_v: new ort.Tensor('float32', local(3, data, lo.pastV, lo.kv), [d.L, d.H, T, d.Dh]),
        };
        if (hasSpeech) feeds.speech = i64(ctl[CTL.SPEECH]);
        if (hasText) feeds.text = i64(ctl[CTL.TEXT]);
        const t0 = performance.now();
        const r = native ? native.run(feeds, fetches, {}) : await s.run(feeds);
        f64[F64.RUN_MS] = performance.now() - t0;
        const logits = r.logits.data as Float32Array;
        const emb = r.embedding.data as Float32Array;
        const pk = r.present_k.data as Float32Array;
        const pv = r.present_v.data as Float32Array;
        const out = layout(d, C, T, logits.length, emb.length);
        if (out.end > data.length - ERR_BYTES / 4) throw new Error(`shared buffer too small (${data.length} < ${out.end + ERR_BYTES / 4} floats)`);
        if (pk.length !== out.kv1 || pv.length !== out.kv1) throw new Error(`present K/V has ${pk.length} floats, expected ${out.kv1}`);
        data.set(logits, out.logits);
        data.set(emb, out.emb);
        data.set(pk, out.presK);
        data.set(pv, out.presV);
        ctl[CTL.N_LOGITS] = logits.length;
        ctl[CTL.N_EMB] = emb.length;
        ctl[CTL.N_PRESENT] = pk.length;
        f64[F64.SURPRISE] = hasSurprise ? (r.surprise.data as Float32Array)[0] : NaN;
      }
      Atomics.store(ctl, CTL.STATUS, 0);
    } catch (e) {
      const msg = new TextEncoder().encode(String((e as Error).message ?? e)).subarray(0, ERR_BYTES - 4);
      const o = bytes.length - ERR_BYTES;
      new DataView(bytes.buffer, o, 4).setUint32(0, msg.length, true);
      bytes.set(msg, o + 4);
      Atomics.store(ctl, CTL.STATUS, 1);
    }
    Atomics.store(ctl, CTL.DONE, seen);
    Atomics.notify(ctl, CTL.DONE);
    // give this thread's event loop a turn (finalisers, ORT callbacks) before blocking again
    await new Promise<void>((r) => setImmediate(r));
  }
}

parentPort!.on('message', async (req: WorkerRequest) => {
  try {
    if (req.type === 'attach') {
      await openNative();
      parentPort!.postMessage({ type: 'attached' } satisfies WorkerResponse);
      await serve(req.ctl, req.data, req.port, req.dims);
      req.port.close();
      parentPort!.postMessage({ type: 'closed' } satisfies WorkerResponse);
    } else if (req.type === 'close') {
      await session?.release();
      session = null;
      parentPort!.postMessage({ type: 'closed' } satisfies WorkerResponse);
    }
  } catch (e) {
    parentPort!.postMessage({ type: 'error', message: (e as Error).message } satisfies WorkerResponse);
  }
});

open().then(
  (r) => parentPort!.postMessage(r),
  (e) => parentPort!.postMessage({ type: 'error', message: `cannot open ${init.path}: ${(e as Error).message}` } satisfies WorkerResponse),
);
