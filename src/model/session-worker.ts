/**
 * ONNX Runtime session in a worker thread. After 'attach' the worker leaves
 * the message loop and serves steps through shared memory: it blocks in
 * Atomics.wait on the request counter, copies the inputs and the past K/V
 * (the caller's KvCache storage) into reused local tensors, runs the session,
 * writes logits, embedding and the new K/V frame back and Atomics.notify()s
 * the caller (see protocol.ts for the layout).
 */
import { parentPort, workerData, receiveMessageOnPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { logger } from '../log.ts';
import { CTL, CTL_INTS, F64, CMD_STEP, CMD_REMAP, CMD_CLOSE, ERR_BYTES, layout, type Remap, type WorkerRequest, type WorkerResponse, type WorkerInit } from './protocol.ts';

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

/**
 * Give this thread's event loop a turn. A step leaves nothing that needs one
 * (ORT's outputs are plain ArrayBuffers; memory stays flat over 30 000
 * back-to-back steps without any turn), so it is only a safety valve for
 * whatever else gets queued here, taken where no caller waits on it.
 */
const hop = () => new Promise<void>((r) => setImmediate(r));
/** A request-free pause this long (ms) gets one event-loop turn, so a streaming caller never waits for one. */
const IDLE_MS = 10;
/** ...and a caller that never pauses gets one every this many steps. */
const BUSY_STEPS = 1024;
/** Steps with a cache whose whole present K/V is checked against past ⊕ new frame (after that, a spot check). */
const FULL_CHECKS = 3;

const same = (a: number, b: number) => a === b || (a !== a && b !== b);

/**
 * Does present ([L·H, T+1, Dh]) start with past ([L·H, T, Dh]) in every slab?
 * `all`: every frame of every slab; else the first and last frame of the
 * first and last slab (a few dozen floats).
 */
function startsWithPast(present: Float32Array, past: Float32Array, LH: number, T: number, Dh: number, all: boolean): boolean {
  const dl = all ? 1 : Math.max(1, LH - 1);
  const dt = all ? 1 : Math.max(1, T - 1);
  for (let lh = 0; lh < LH; lh += dl) {
    for (let t = 0; t < T; t += dt) {
      const p = (lh * (T + 1) + t) * Dh;
      const q = (lh * T + t) * Dh;
      for (let i = 0; i < Dh; i++) if (!same(present[p + i], past[q + i])) return false;
    }
  }
  return true;
}

/** Serve steps from shared memory until CMD_CLOSE. */
async function serve(req: Extract<WorkerRequest, { type: 'attach' }>): Promise<void> {
  const d = req.dims;
  const ctl = new Int32Array(req.ctl, 0, CTL_INTS);
  const f64 = new Float64Array(req.ctl, CTL_INTS * 4, 2);
  let data = new Float32Array(req.data);
  let bytes = new Uint8Array(req.data);
  let kvK = new Float32Array(req.k);
  let kvV = new Float32Array(req.v);
  const LH = d.L * d.H;
  const fs = LH * d.Dh;
  const s = session!;
  const hasSpeech = s.inputNames.includes('speech');
  const hasText = s.inputNames.includes('text');
  const hasSurprise = s.outputNames.includes('surprise');
  const fetches: Record<string, null> = Object.fromEntries(s.outputNames.map((n) => [n, null]));
  // Input tensors are built once per (C, T) and refilled in place. ORT does not take
  // views of shared memory, so their data are local buffers the step copies into.
  const scalar = () => new ort.Tensor('int64', new BigInt64Array(1), [1]);
  const tT = scalar();
  const feeds: Record<string, ort.Tensor> = { t: tT };
  const speechT = scalar();
  const textT = scalar();
  if (hasSpeech) feeds.speech = speechT;
  if (hasText) feeds.text = textT;
  let curC = -1;
  let curT = -1;
  let lo = layout(d, 0, 0);
  let xIn = new Float32Array(0);
  let posIn = new Float32Array(0);
  let pastK = new Float32Array(0);
  let pastV = new Float32Array(0);
  // views of the shared inputs for the current (C, T)
  let xSrc: Float32Array = xIn;
  let posSrc: Float32Array = posIn;
  /** Set when the model's present is not past ⊕ new frame: ship the whole present from then on. */
  let full = false;
  let checked = 0;
  let served = 0;
  // the last request served (the caller may already have posted the next one)
  let seen = Atomics.load(ctl, CTL.DONE);
  for (;;) {
    // take event-loop turns while idle, not between a caller's back-to-back steps
    if (Atomics.wait(ctl, CTL.SEQ, seen, IDLE_MS) === 'timed-out') {
      await hop();
      Atomics.wait(ctl, CTL.SEQ, seen);
    }
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
        const m = receiveMessageOnPort(req.port);
        if (!m) throw new Error('remap without buffers');
        const r = m.message as Remap;
        if (r.data) {
          data = new Float32Array(r.data);
          bytes = new Uint8Array(r.data);
        }
        if (r.k) kvK = new Float32Array(r.k);
        if (r.v) kvV = new Float32Array(r.v);
        curC = curT = -1; // rebuild the views
      } else if (cmd === CMD_STEP) {
        const C = ctl[CTL.C];
        const T = ctl[CTL.T];
        const rebuild = C !== curC || T !== curT;
        if (rebuild) {
          lo = layout(d, C, T);
          if (lo.end > data.length - ERR_BYTES / 4) throw new Error(`shared buffer too small (${data.length} < ${lo.end + ERR_BYTES / 4} floats)`);
          if (C !== curC) {
            xIn = new Float32Array(C * d.F);
            posIn = new Float32Array(C * d.P);
            feeds.x = new ort.Tensor('float32', xIn, [1, C, d.F]);
            feeds.pos_code = new ort.Tensor('float32', posIn, [1, C, d.P]);
          }
          if (pastK.length < T * fs) {
            pastK = new Float32Array(Math.max(T * fs, 2 * pastK.length));
            pastV = new Float32Array(pastK.length);
          }
          feeds.past_k = new ort.Tensor('float32', pastK.subarray(0, T * fs), [d.L, d.H, T, d.Dh]);
          feeds.past_v = new ort.Tensor('float32', pastV.subarray(0, T * fs), [d.L, d.H, T, d.Dh]);
          xSrc = data.subarray(lo.x, lo.x + C * d.F);
          posSrc = data.subarray(lo.pos, lo.pos + C * d.P);
          curC = C;
          curT = T;
        }
        xIn.set(xSrc);
        if (rebuild || !ctl[CTL.POS_SAME]) posIn.set(posSrc);
        // the cache block slides through its storage, so its offset changes from step to step
        const kOff = ctl[CTL.K_OFF];
        const vOff = ctl[CTL.V_OFF];
        if (kOff < 0 || vOff < 0 || kOff + T * fs > kvK.length || vOff + T * fs > kvV.length) throw new Error(`KV block [${kOff}, ${vOff}] + ${T} frames is outside the shared buffers`);
        pastK.set(kvK.subarray(kOff, kOff + T * fs));
        pastV.set(kvV.subarray(vOff, vOff + T * fs));
        (tT.data as BigInt64Array)[0] = BigInt(ctl[CTL.POS_T]);
        (speechT.data as BigInt64Array)[0] = BigInt(ctl[CTL.SPEECH]);
        (textT.data as BigInt64Array)[0] = BigInt(ctl[CTL.TEXT]);
        const t0 = performance.now();
        const r = native ? native.run(feeds, fetches, {}) : await s.run(feeds);
        f64[F64.RUN_MS] = performance.now() - t0;
        const logits = r.logits.data as Float32Array;
        const emb = r.embedding.data as Float32Array;
        const pk = r.present_k.data as Float32Array;
        const pv = r.present_v.data as Float32Array;
        if (logits.length > d.nLogits || emb.length > d.nEmb) throw new Error(`model returned ${logits.length} logits / ${emb.length}-d embedding, room for ${d.nLogits} / ${d.nEmb}`);
        if (pk.length !== lo.kv1 || pv.length !== lo.kv1) throw new Error(`present K/V has ${pk.length}/${pv.length} floats, expected ${lo.kv1} ([L, H, T+1, Dh], T=${T})`);
        data.set(logits, lo.logits);
        data.set(emb, lo.emb);
        if (!full && T > 0) {
          // The caller appends only the new frame, which relies on present = past ⊕ new
          // frame. Check it (fully on the first steps, then a spot check) and ship the
          // whole present from the first model that breaks it.
          const all = checked < FULL_CHECKS;
          checked++;
          if (!startsWithPast(pk, pastK, LH, T, d.Dh, all) || !startsWithPast(pv, pastV, LH, T, d.Dh, all)) {
            full = true;
            log.warn({ path: init.path, step: ctl[CTL.POS_T] }, 'present K/V is not past + one new frame; returning the whole present each step (slower)');
          }
        }
        if (full) {
          data.set(pk, lo.presK);
          data.set(pv, lo.presV);
        } else {
          // the new frame is the last of each [T+1, Dh] slab
          const Dh = d.Dh;
          for (let lh = 0; lh < LH; lh++) {
            const src = (lh * (T + 1) + T) * Dh;
            const dst = lh * Dh;
            for (let i = 0; i < Dh; i++) {
              data[lo.newK + dst + i] = pk[src + i];
              data[lo.newV + dst + i] = pv[src + i];
            }
          }
        }
        ctl[CTL.FULL] = full ? 1 : 0;
        ctl[CTL.N_LOGITS] = logits.length;
        ctl[CTL.N_EMB] = emb.length;
        f64[F64.SURPRISE] = hasSurprise ? (r.surprise.data as Float32Array)[0] : NaN;
      }
      Atomics.store(ctl, CTL.STATUS, 0);
    } catch (e) {
      const msg = new TextEncoder().encode(String((e as Error).message ?? e)).subarray(0, ERR_BYTES - 4);
      const o = bytes.length - ERR_BYTES;
      new DataView(bytes.buffer, o, 4).setUint32(0, msg.length, true);
      bytes.set(msg, o + 4);
      Atomics.store(ctl, CTL.STATUS, 1);
      curC = curT = -1; // the step may have stopped halfway: copy every input afresh next time
    }
    Atomics.store(ctl, CTL.DONE, seen);
    Atomics.notify(ctl, CTL.DONE);
    if (++served % BUSY_STEPS === 0) await hop();
  }
}

parentPort!.on('message', async (req: WorkerRequest) => {
  try {
    if (req.type === 'attach') {
      await openNative();
      parentPort!.postMessage({ type: 'attached' } satisfies WorkerResponse);
      await serve(req);
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
