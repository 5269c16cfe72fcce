/**
 * ONNX Runtime session in a worker thread. After 'attach' the worker leaves
 * the message loop and serves steps through shared memory: it blocks in
 * Atomics.wait on the request counter, copies the inputs and the past K/V
 * (the caller's KvCache storage) into the step engine's input tensors
 * (step-engine.ts: ORT's C API over native memory, or the binding), runs it,
 * writes logits, embedding and the new K/V frame back and Atomics.notify()s
 * the caller (see protocol.ts for the layout).
 */
import { parentPort, workerData, receiveMessageOnPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { logger } from '../log.ts';
import { CTL, CTL_INTS, F64, CMD_STEP, CMD_STEP_MANY, CMD_REMAP, CMD_CLOSE, ERR_BYTES, layout, batchLayout, hasNewFrameOutputs, type Remap, type StepDims, type WorkerRequest, type WorkerResponse, type WorkerInit } from './protocol.ts';
import { BindingEngine, DirectEngine, type NativeSession, type StepEngine, type StepOutputs } from './step-engine.ts';

const log = logger('model-worker');
const init = workerData as WorkerInit & { entry: string };
let session: ort.InferenceSession | null = null;

let native: NativeSession | null = null;
let backend = 'cpu';
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


/**
 * The step engine: ORT's C API with tensors bound over native memory when the
 * model returns new_k/new_v and runs on the CPU (NEUROX_ORT_DIRECT=0 turns
 * it off), else onnxruntime-node's binding. Any failure of the C API path
 * falls back to the binding with a log line.
 */
async function makeEngine(d: StepDims): Promise<StepEngine> {
  const s = session!;
  const hasNew = hasNewFrameOutputs(s.outputNames);
  // outputs are bound once, so their sizes must be known: logits [1, K] and embedding [1, D] as declared
  const dim = (name: string) => {
    const m = s.outputMetadata.find((o) => o.name === name);
    return m?.isTensor ? m.shape[1] : undefined;
  };
  const fixed = dim('logits') === d.nLogits && dim('embedding') === d.nEmb;
  if (hasNew && fixed && backend === 'cpu' && init.engine !== 'binding' && process.env.NEUROX_ORT_DIRECT !== '0') {
    try {
      return new DirectEngine(init.path, d, { intraOpThreads: init.intraOpThreads, optimization: init.optimization, inputs: [...s.inputNames], outputs: [...s.outputNames] });
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'ONNX Runtime C API path unavailable; using onnxruntime-node');
    }
  }
  await openNative();
  return new BindingEngine(s, native, d);
}

/** Serve steps from shared memory until CMD_CLOSE. */
async function serve(req: Extract<WorkerRequest, { type: 'attach' }>, engine: StepEngine): Promise<void> {
  const d = req.dims;
  const ctl = new Int32Array(req.ctl, 0, CTL_INTS);
  const f64 = new Float64Array(req.ctl, CTL_INTS * 4, 2);
  let data = new Float32Array(req.data);
  let bytes = new Uint8Array(req.data);
  let kvK = new Float32Array(req.k);
  let kvV = new Float32Array(req.v);
  const LH = d.L * d.H;
  const fs = LH * d.Dh;
  const Dh = d.Dh;
  /** (C, T) whose inputs (position codes included) the engine holds; -1: copy everything afresh. */
  let curC = -1;
  let curT = -1;
  /** Set when the model's present is not past ⊕ new frame: ship the whole present from then on. */
  let full = false;
  let checked = 0;
  let served = 0;
  let lastHop = 0;
  const run = async (t: number, speech: number, text: number): Promise<StepOutputs> => {
    const o = engine.run(t, speech, text);
    served++;
    return o instanceof Promise ? await o : o;
  };
  const checkOut = (o: StepOutputs): void => {
    if (o.logits.length > d.nLogits || o.embedding.length > d.nEmb) throw new Error(`model returned ${o.logits.length} logits / ${o.embedding.length}-d embedding, room for ${d.nLogits} / ${d.nEmb}`);
    if (o.newK && (o.newK.length !== fs || o.newV!.length !== fs)) throw new Error(`new K/V has ${o.newK.length}/${o.newV!.length} floats, expected ${fs} ([L, H, 1, Dh])`);
  };
  /**
   * Present K/V ([L, H, T+1, Dh]) into the shared buffer: the new frame alone while the
   * model keeps present = past ⊕ new (checked: in full on the first steps, then a spot
   * check), the whole present from the first model that breaks it.
   */
  const presentToShared = (pk: Float32Array, pv: Float32Array, T: number, lo: ReturnType<typeof layout>): void => {
    if (pk.length !== lo.kv1 || pv.length !== lo.kv1) throw new Error(`present K/V has ${pk.length}/${pv.length} floats, expected ${lo.kv1} ([L, H, T+1, Dh], T=${T})`);
    if (!full && T > 0) {
      const all = checked < FULL_CHECKS;
      checked++;
      if (!startsWithPast(pk, engine.pastK, LH, T, Dh, all) || !startsWithPast(pv, engine.pastV, LH, T, Dh, all)) {
        full = true;
        log.warn({ path: init.path, step: ctl[CTL.POS_T] }, 'present K/V is not past + one new frame; returning the whole present each step (slower)');
      }
    }
    if (full) {
      data.set(pk, lo.presK);
      data.set(pv, lo.presV);
    } else {
      // the new frame is the last of each [T+1, Dh] slab
      for (let lh = 0; lh < LH; lh++) {
        const src = (lh * (T + 1) + T) * Dh;
        data.set(pk.subarray(src, src + Dh), lo.newK + lh * Dh);
        data.set(pv.subarray(src, src + Dh), lo.newV + lh * Dh);
      }
    }
    ctl[CTL.FULL] = full ? 1 : 0;
  };
  /** The cache's block [L, H, T, Dh] at K_OFF / V_OFF of the shared storage (checked). */
  const cacheBlock = (T: number): [Float32Array, Float32Array] => {
    const kOff = ctl[CTL.K_OFF];
    const vOff = ctl[CTL.V_OFF];
    if (kOff < 0 || vOff < 0 || kOff + T * fs > kvK.length || vOff + T * fs > kvV.length) throw new Error(`KV block [${kOff}, ${vOff}] + ${T} frames is outside the shared buffers`);
    return [kvK.subarray(kOff, kOff + T * fs), kvV.subarray(vOff, vOff + T * fs)];
  };

  const step = async (): Promise<void> => {
    const C = ctl[CTL.C];
    const T = ctl[CTL.T];
    const lo = layout(d, C, T);
    if (lo.end > data.length - ERR_BYTES / 4) throw new Error(`shared buffer too small (${data.length} < ${lo.end + ERR_BYTES / 4} floats)`);
    const fresh = C !== curC || T !== curT;
    engine.shape(C, T);
    curC = C;
    curT = T;
    engine.x.set(data.subarray(lo.x, lo.x + C * d.F));
    if (fresh || !ctl[CTL.POS_SAME]) engine.pos.set(data.subarray(lo.pos, lo.pos + C * d.P));
    // the cache block slides through its storage, so its offset changes from step to step
    const [pk, pv] = cacheBlock(T);
    engine.pastK.set(pk);
    engine.pastV.set(pv);
    const t0 = performance.now();
    const o = await run(ctl[CTL.POS_T], ctl[CTL.SPEECH], ctl[CTL.TEXT]);
    f64[F64.RUN_MS] = performance.now() - t0;
    checkOut(o);
    data.set(o.logits, lo.logits);
    data.set(o.embedding, lo.emb);
    ctl[CTL.N_LOGITS] = o.logits.length;
    ctl[CTL.N_EMB] = o.embedding.length;
    f64[F64.SURPRISE] = o.surprise;
    if (o.newK) {
      data.set(o.newK, lo.newK);
      data.set(o.newV!, lo.newV);
      ctl[CTL.FULL] = 0;
    } else presentToShared(o.presentK!, o.presentV!, T, lo);
  };

  // The cache during a batch: per layer·head slab a ring of `window` frames stored twice
  // ([2·window, Dh]), so the current window is always one contiguous run of each slab.
  let ringK = new Float32Array(0);
  let ringV = new Float32Array(0);
  /** n frames per layer·head ([L, H, n, Dh] blocks k, v) into ring slot `slot` of both copies (window W). */
  const ringPut = (k: Float32Array, v: Float32Array, n: number, slot: number, W: number): void => {
    const slab = 2 * W * Dh;
    const at = slot * Dh;
    for (let lh = 0; lh < LH; lh++) {
      const kk = k.subarray(lh * n * Dh, (lh + 1) * n * Dh);
      const vv = v.subarray(lh * n * Dh, (lh + 1) * n * Dh);
      ringK.set(kk, lh * slab + at);
      ringK.set(kk, lh * slab + at + W * Dh);
      ringV.set(vv, lh * slab + at);
      ringV.set(vv, lh * slab + at + W * Dh);
    }
  };
  /**
   * CMD_STEP_MANY: N frames in a row without waking the caller in between. The
   * past K/V start as the cache's block and then slide exactly as the runner's
   * default window policy slides the cache (append the new frame, keep the last
   * WINDOW), so each step sees what it would have seen as a single step. The
   * runner appends the returned new frames to the cache afterwards.
   */
  const stepMany = async (): Promise<void> => {
    const C = ctl[CTL.C];
    const N = ctl[CTL.N];
    const W = ctl[CTL.WINDOW];
    let T = ctl[CTL.T];
    if (N < 1 || W < 1 || T > W) throw new Error(`bad batch: N=${N}, window ${W}, cache ${T}`);
    const bl = batchLayout(d, C, T, N);
    if (bl.end > data.length - ERR_BYTES / 4) throw new Error(`shared buffer too small for ${N} frames (${data.length} < ${bl.end + ERR_BYTES / 4} floats)`);
    const [bk, bv] = cacheBlock(T);
    const slab = 2 * W * Dh;
    if (ringK.length < LH * slab) {
      ringK = new Float32Array(LH * slab);
      ringV = new Float32Array(LH * slab);
    }
    // the cache's [L, H, T, Dh] block: frames 0..T-1 into slots 0..T-1 of both copies
    ringPut(bk, bv, T, 0, W);
    let oldest = 0; // frame number of the window's first frame (frames count from the batch's start)
    const pos0 = layout(d, C, T).pos;
    engine.shape(C, T);
    engine.pos.set(data.subarray(pos0, pos0 + C * d.P));
    const t0 = ctl[CTL.POS_T];
    let runMs = 0;
    for (let i = 0; i < N; i++) {
      engine.shape(C, T);
      const first = (oldest % W) * Dh;
      const pastK = engine.pastK;
      const pastV = engine.pastV;
      for (let lh = 0; lh < LH; lh++) {
        pastK.set(ringK.subarray(lh * slab + first, lh * slab + first + T * Dh), lh * T * Dh);
        pastV.set(ringV.subarray(lh * slab + first, lh * slab + first + T * Dh), lh * T * Dh);
      }
      engine.x.set(data.subarray(bl.x + i * C * d.F, bl.x + (i + 1) * C * d.F));
      const a = performance.now();
      const o = await run(t0 + i, data[bl.ids + 2 * i], data[bl.ids + 2 * i + 1]);
      runMs += performance.now() - a;
      checkOut(o);
      if (!o.newK || !o.newV) throw new Error('batched steps need a model with new_k/new_v outputs');
      if (o.logits.length !== d.nLogits || o.embedding.length !== d.nEmb) throw new Error(`model returned ${o.logits.length} logits / ${o.embedding.length}-d embedding, batches need exactly ${d.nLogits} / ${d.nEmb}`);
      const rec = bl.out + i * bl.rec;
      data.set(o.logits, rec);
      data.set(o.embedding, rec + d.nLogits);
      data.set(o.newK, rec + d.nLogits + d.nEmb);
      data.set(o.newV, rec + d.nLogits + d.nEmb + fs);
      data[rec + d.nLogits + d.nEmb + 2 * fs] = o.surprise;
      // slide the window: the new frame in, the oldest out once the window is full
      ringPut(o.newK, o.newV, 1, (oldest + T) % W, W);
      if (T === W) oldest++;
      else T++;
    }
    f64[F64.RUN_MS] = runMs;
    ctl[CTL.N_LOGITS] = d.nLogits;
    ctl[CTL.N_EMB] = d.nEmb;
    curC = curT = -1; // the next single step copies every input afresh
  };

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
      await engine.release();
      native = null;
      await session?.release();
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
        curC = curT = -1;
      } else if (cmd === CMD_STEP) await step();
      else if (cmd === CMD_STEP_MANY) await stepMany();
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
    if (served - lastHop >= BUSY_STEPS) {
      lastHop = served;
      await hop();
    }
  }
}

parentPort!.on('message', async (req: WorkerRequest) => {
  try {
    if (req.type === 'attach') {
      const engine = await makeEngine(req.dims);
      log.debug({ engine: engine.name }, 'step engine');
      parentPort!.postMessage({ type: 'attached', engine: engine.name } satisfies WorkerResponse);
      await serve(req, engine);
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
