/**
 * ModelRunner, the worker client: a streaming DIVER-S (or any model with the
 * same step signature) running in onnxruntime-node inside a worker thread, with
 * the KV cache held here in TypeScript between steps, and queued steps batched
 * into one worker call. Loading is in load.ts, the ONNX metadata reader in
 * metadata.ts.
 */
import type { Worker, MessagePort } from 'node:worker_threads';
import { logger } from '../log.ts';
import { KvCache, type CachePolicy } from './kvcache.ts';
import type { ModelInputs } from '../tokenize/index.ts';
import { CTL, CTL_INTS, F64, CMD_STEP, CMD_STEP_MANY, CMD_REMAP, CMD_CLOSE, ERR_BYTES, layout, batchLayout, hasNewFrameOutputs, type StepDims, type Remap, type IoMeta, type WorkerRequest, type WorkerResponse } from './protocol.ts';

const log = logger('model');

export interface LoadOptions {
  device?: 'cpu' | 'gpu';
  /** ONNX Runtime intra-op threads (default 1: the pipeline owns the other core). */
  intraOpThreads?: number;
  /**
   * ONNX Runtime graph optimisation level. Default 'basic' (constant folding,
   * redundant-node removal): an int8 model then computes exactly its
   * dequantised float32 twin. 'extended'/'all' let ORT fuse DequantizeLinear +
   * MatMul into integer kernels that also quantise activations (faster on big
   * layers, no longer bit-comparable to the twin).
   */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * How the worker calls ONNX Runtime. 'auto' (default): its C API with
   * tensors bound once over native memory, for CPU models that output
   * new_k/new_v (about a quarter less time per step than the binding at 64
   * channels), else onnxruntime-node's binding; 'binding': always the binding.
   * `NEUROX_ORT_DIRECT=0` in the environment forces the binding too.
   */
  engine?: 'auto' | 'binding';
  /** Labels for models without neurox metadata (else read from the model). */
  labels?: string[];
  /**
   * Frames kept by the default sliding-window policy. Default: the model's
   * metadata `cacheFrames` (the context it was trained on: attention beyond
   * the trained distances degrades accuracy), else 64 (≈ 5 s at 80 ms).
   */
  cacheBudget?: number;
  /** Replaces the default policy; runs after every step. */
  cachePolicy?: CachePolicy;
}

export interface AdapterSlice {
  name: string;
  start: number;
  end: number;
}

export interface ModelInfo {
  path: string;
  name: string;
  kind: string;
  /** Execution provider actually used: 'cpu' or 'cuda'. */
  backend: string;
  /**
   * How the worker calls ONNX Runtime: 'ort-c-api' (the C API through koffi,
   * tensors bound once over native memory) or 'onnxruntime-node' (its binding).
   */
  engine: string;
  deviceRequested: 'cpu' | 'gpu';
  fallbackReason?: string;
  intraOpThreads: number;
  optimization: string;
  quantized: boolean;
  params?: number;
  hopMs: number;
  featDim: number;
  posDim: number;
  kv: { layers: number; heads: number; headDim: number };
  inputs: IoMeta[];
  outputs: IoMeta[];
  metadata: Record<string, unknown>;
}

export interface StepOptions {
  /** Speech code for this frame (1..V-1), 0 or undefined = absent. */
  speech?: number;
  /** Text token for this frame, 0 or undefined = absent. */
  text?: number;
}

export interface StepResult {
  logits: Float32Array;
  /** Softmax within each adapter's slice (each paradigm's probabilities sum to 1). */
  probs: Float32Array;
  embedding: Float32Array;
  surprise: number;
  /** Absolute frame position of this step. */
  t: number;
  /** session.run time inside the worker (ms; a batch's mean per frame). */
  runMs: number;
  /** Round trip from the worker call to the result (ms; for a batch, its time divided by the frames in it). */
  stepMs: number;
  /** Frames in the worker call that produced this result (1 = a single step). */
  batched: number;
}

interface Pending {
  inputs: ModelInputs;
  opts: StepOptions;
  resolve: (r: StepResult) => void;
  reject: (e: unknown) => void;
}

/** Most queued frames handed to the worker in one call. */
export const MAX_BATCH = 64;

/** The bytes of a typed array (no copy), for memcmp-style comparisons. */
const bytesOf = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Same position codes bit for bit (what the worker would compute with), as putPos compares them. */
function samePos(a: Float32Array, b: Float32Array): boolean {
  return a === b || bytesOf(a).equals(bytesOf(b));
}

export function softmaxSlices(logits: Float32Array, slices: AdapterSlice[]): Float32Array {
  const p = new Float32Array(logits.length);
  for (const s of slices) {
    let m = -Infinity;
    for (let i = s.start; i < s.end; i++) m = Math.max(m, logits[i]);
    let z = 0;
    for (let i = s.start; i < s.end; i++) z += p[i] = Math.exp(logits[i] - m);
    for (let i = s.start; i < s.end; i++) p[i] /= z;
  }
  return p;
}

type WaitAsync = (a: Int32Array, i: number, v: number) => { async: boolean; value: Promise<string> | string };

/** Shared-memory channel to the session worker (see protocol.ts). */
export interface Shared {
  ctl: SharedArrayBuffer;
  data: SharedArrayBuffer;
  port: MessagePort;
  dims: StepDims;
  /** The cache, whose storage the worker was handed at attach. */
  cache: KvCache;
}


export class ModelRunner {
  readonly labels: string[];
  readonly adapters: AdapterSlice[];
  readonly info: ModelInfo;
  readonly cache: KvCache;
  private readonly worker: Worker;
  private readonly policy: CachePolicy;
  /** The default window policy's budget, fused into the append (Infinity under a custom policy). */
  private readonly windowFrames: number;
  private readonly sh: Shared;
  private readonly ctl: Int32Array;
  private readonly f64: Float64Array;
  private data: Float32Array;
  /** Views of the data buffer's new-frame regions (fixed offsets). */
  private newK: Float32Array;
  private newV: Float32Array;
  /** KV storage buffers the worker holds. */
  private kvK: ArrayBufferLike;
  private kvV: ArrayBufferLike;
  /** Layout for the last step's C and T (recomputed when they change). */
  private lo: ReturnType<typeof layout>;
  private loC = -1;
  private loT = -1;
  /** The last position codes sent, as bytes: the caller's array and the data buffer's copy. */
  private posArr: Float32Array | null = null;
  private posBytes: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  private posShared: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  private dead: Error | null = null;
  private t = 0;
  /** Steps waiting for the worker, and the loop that serves them. */
  private queue: Pending[] = [];
  private pumping = false;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Queued steps may run as one batch (see step()). */
  private readonly batchable: boolean;

  /** Use loadModel(). */
  constructor(worker: Worker, info: ModelInfo, labels: string[], adapters: AdapterSlice[], policy: CachePolicy, shared: Shared, windowFrames = Infinity) {
    this.worker = worker;
    this.info = info;
    this.labels = labels;
    this.adapters = adapters;
    this.policy = policy;
    this.windowFrames = windowFrames;
    this.sh = shared;
    this.ctl = new Int32Array(shared.ctl, 0, CTL_INTS);
    this.f64 = new Float64Array(shared.ctl, CTL_INTS * 4, 2);
    this.data = new Float32Array(shared.data);
    this.cache = shared.cache;
    this.kvK = this.cache.k.buffer;
    this.kvV = this.cache.v.buffer;
    this.lo = layout(shared.dims, 0, 0);
    this.newK = this.data.subarray(this.lo.newK, this.lo.newK + this.cache.frameSize);
    this.newV = this.data.subarray(this.lo.newV, this.lo.newV + this.cache.frameSize);
    this.batchable = Number.isFinite(windowFrames) && hasNewFrameOutputs(info.outputs.map((o) => o.name)) && process.env.NEUROX_MODEL_BATCH !== '0';
    const fail = (e: Error) => {
      this.dead ??= e;
      Atomics.notify(this.ctl, CTL.DONE); // wake a waiting step
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`model worker exited (code ${code})`)));
    worker.on('message', (m: WorkerResponse) => {
      if (m.type === 'error') log.error({ message: m.message }, 'model worker error');
    });
  }

  /** Frame position the next step will use. */
  get position(): number {
    return this.t;
  }

  /**
   * Run one frame. Steps run in call order; the cache is updated before the
   * promise resolves. Steps called while earlier ones are still running (a
   * replay, an evaluation, a stream catching up after a stall) are handed to
   * the worker together, up to MAX_BATCH at a time, when that cannot change
   * the result: the model returns new_k/new_v, the cache runs the default
   * window policy, and the frames share the channel set and position codes.
   * The worker then steps through them without waking this thread in between,
   * and each frame sees exactly the past it would have seen on its own
   * (tested). `inputs.x` must stay unchanged until the step resolves.
   */
  step(inputs: ModelInputs, opts: StepOptions = {}): Promise<StepResult> {
    return new Promise<StepResult>((resolve, reject) => {
      this.queue.push({ inputs, opts, resolve, reject });
      if (!this.pumping) this.chain = this.pump();
    });
  }

  /** Serve queued steps in order, coalescing the ones that can run as one batch. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length) {
        const batch = this.takeBatch();
        try {
          const res = batch.length === 1 ? [await this.doStep(batch[0].inputs, batch[0].opts)] : await this.doBatch(batch);
          batch.forEach((p, i) => p.resolve(res[i]));
        } catch (e) {
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private takeBatch(): Pending[] {
    const first = this.queue.shift()!;
    const out = [first];
    if (!this.batchable) return out;
    const a = first.inputs;
    while (out.length < MAX_BATCH && this.queue.length) {
      const b = this.queue[0].inputs;
      if (b.nChannels !== a.nChannels || b.featDim !== a.featDim || b.posDim !== a.posDim || b.x.length !== a.x.length || !samePos(a.posCode, b.posCode)) break;
      out.push(this.queue.shift()!);
    }
    return out;
  }

  /** Hand one command to the worker and wait for its reply (no postMessage). */
  private async call(cmd: number): Promise<void> {
    const ctl = this.ctl;
    if (this.dead) throw this.dead;
    const seq = (Atomics.load(ctl, CTL.SEQ) + 1) | 0;
    Atomics.store(ctl, CTL.CMD, cmd);
    Atomics.store(ctl, CTL.SEQ, seq);
    Atomics.notify(ctl, CTL.SEQ);
    for (;;) {
      const done = Atomics.load(ctl, CTL.DONE);
      if (done === seq) break;
      if (this.dead) throw this.dead;
      const w = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync(ctl, CTL.DONE, done);
      if (w.async) await w.value;
    }
    if (Atomics.load(ctl, CTL.STATUS) !== 0) {
      const bytes = new Uint8Array(this.sh.data);
      const o = bytes.length - ERR_BYTES;
      const n = new DataView(this.sh.data, o, 4).getUint32(0, true);
      throw new Error(new TextDecoder().decode(bytes.slice(o + 4, o + 4 + n)));
    }
  }

  /**
   * Make sure the worker sees the cache's current storage and a data buffer
   * that holds a step with C channels and T cached frames (one message when
   * either changed; nothing on a steady stream).
   */
  private ensureBuffers(C: number, T: number, N = 1): Promise<void> | undefined {
    const k = this.cache.k.buffer;
    const v = this.cache.v.buffer;
    const kvMoved = k !== this.kvK || v !== this.kvV;
    const lo = layout(this.sh.dims, C, T);
    const need = (N > 1 ? batchLayout(this.sh.dims, C, T, N).end : lo.end) + ERR_BYTES / 4;
    if (!kvMoved && C === this.loC && T === this.loT && need <= this.data.length) return undefined;
    const r: Remap = {};
    if (need > this.data.length) r.data = new SharedArrayBuffer(Math.ceil(need * 1.5) * 4);
    if (kvMoved) {
      if (!(k instanceof SharedArrayBuffer && v instanceof SharedArrayBuffer)) throw new Error('KV cache storage is not shared memory');
      r.k = k;
      r.v = v;
    }
    if (!r.data && !r.k) {
      this.setLayout(lo, C, T);
      return undefined;
    }
    return this.remap(r, lo, C, T);
  }

  private async remap(r: Remap, lo: ReturnType<typeof layout>, C: number, T: number): Promise<void> {
    this.sh.port.postMessage(r);
    await this.call(CMD_REMAP);
    if (r.k && r.v) {
      this.kvK = r.k;
      this.kvV = r.v;
    }
    if (r.data) {
      this.sh.data = r.data;
      this.data = new Float32Array(r.data);
      this.newK = this.data.subarray(lo.newK, lo.newK + this.cache.frameSize);
      this.newV = this.data.subarray(lo.newV, lo.newV + this.cache.frameSize);
    }
    this.setLayout(lo, C, T);
  }

  private setLayout(lo: ReturnType<typeof layout>, C: number, T: number): void {
    this.posShared = Buffer.from(this.data.buffer, lo.pos * 4, C * this.sh.dims.P * 4);
    this.lo = lo;
    this.loC = C;
    this.loT = T;
  }

  /** Throws when the runner is closed or `inputs` do not fit the model. */
  private checkInputs(inputs: ModelInputs): void {
    if (this.closed) throw new Error('model runner is closed');
    const { nChannels: C, featDim: F, posDim: P } = inputs;
    if (F !== this.info.featDim) throw new Error(`model expects ${this.info.featDim} features per channel, got ${F}`);
    if (P !== this.info.posDim) throw new Error(`model expects position codes of ${this.info.posDim}, got ${P}`);
    if (inputs.x.length !== C * F || inputs.posCode.length !== C * P) throw new Error('feature array sizes do not match nChannels');
  }

  private async doStep(inputs: ModelInputs, opts: StepOptions): Promise<StepResult> {
    this.checkInputs(inputs);
    const { nChannels: C, featDim: F, posDim: P } = inputs;
    const t0 = performance.now();
    const cache = this.cache;
    const T = cache.length;
    const remap = this.ensureBuffers(C, T);
    if (remap) await remap; // only when a buffer changed: a steady stream takes no extra turn
    const lo = this.lo;
    const data = this.data;
    data.set(inputs.x, lo.x);
    const posSame = this.putPos(inputs.posCode);
    const ctl = this.setStepCtl(C, T);
    ctl[CTL.SPEECH] = opts.speech ?? 0;
    ctl[CTL.TEXT] = opts.text ?? 0;
    ctl[CTL.POS_SAME] = posSame ? 1 : 0;
    await this.call(CMD_STEP);
    if (cache.length !== T) throw new Error('the KV cache was edited while a step was running (edit it in the cache policy or between steps)');
    const logits = data.slice(lo.logits, lo.logits + ctl[CTL.N_LOGITS]);
    const embedding = data.slice(lo.emb, lo.emb + ctl[CTL.N_EMB]);
    const surprise = this.f64[F64.SURPRISE];
    const pos = this.t;
    if (ctl[CTL.FULL]) cache.adoptPresent(data.subarray(lo.presK, lo.presK + lo.kv1), data.subarray(lo.presV, lo.presV + lo.kv1), pos, surprise);
    else cache.append(this.newK, this.newV, pos, surprise, this.windowFrames);
    this.t++;
    this.policy(cache);
    return {
      logits,
      probs: softmaxSlices(logits, this.adapters),
      embedding,
      surprise,
      t: pos,
      runMs: this.f64[F64.RUN_MS],
      stepMs: performance.now() - t0,
      batched: 1,
    };
  }

  /**
   * The control words every step command carries: channels, cached frames, the
   * position of the (first) frame, and where the past K/V lie, which the worker
   * reads from the cache's own (shared) storage.
   */
  private setStepCtl(C: number, T: number): Int32Array {
    const ctl = this.ctl;
    ctl[CTL.C] = C;
    ctl[CTL.T] = T;
    ctl[CTL.POS_T] = this.t;
    ctl[CTL.K_OFF] = this.cache.k.byteOffset >> 2;
    ctl[CTL.V_OFF] = this.cache.v.byteOffset >> 2;
    return ctl;
  }

  /**
   * Write the position codes into the data buffer unless it already holds
   * them. They rarely change: a memcmp is cheaper than rewriting shared cache
   * lines that the worker then has to fetch again. Returns whether they were
   * already there.
   */
  private putPos(pc: Float32Array): boolean {
    if (pc !== this.posArr) {
      this.posArr = pc;
      this.posBytes = bytesOf(pc);
    }
    const same = this.posBytes.equals(this.posShared);
    if (!same) this.data.set(pc, this.lo.pos);
    return same;
  }

  /** Several queued frames in one worker call (CMD_STEP_MANY); same results as one step() each. */
  private async doBatch(items: Pending[]): Promise<StepResult[]> {
    for (const it of items) this.checkInputs(it.inputs);
    const first = items[0].inputs;
    const { nChannels: C, featDim: F } = first;
    const t0 = performance.now();
    const cache = this.cache;
    const T = cache.length;
    const N = items.length;
    const remap = this.ensureBuffers(C, T, N);
    if (remap) await remap;
    const bl = batchLayout(this.sh.dims, C, T, N);
    const data = this.data;
    this.putPos(first.posCode);
    for (let i = 0; i < N; i++) {
      data.set(items[i].inputs.x, bl.x + i * C * F);
      data[bl.ids + 2 * i] = items[i].opts.speech ?? 0;
      data[bl.ids + 2 * i + 1] = items[i].opts.text ?? 0;
    }
    const ctl = this.setStepCtl(C, T);
    ctl[CTL.N] = N;
    ctl[CTL.WINDOW] = this.windowFrames;
    await this.call(CMD_STEP_MANY);
    if (cache.length !== T) throw new Error('the KV cache was edited while a step was running (edit it in the cache policy or between steps)');
    const { nLogits, nEmb } = this.sh.dims;
    const fs = bl.fs;
    const perStep = (performance.now() - t0) / N;
    const runMs = this.f64[F64.RUN_MS] / N;
    const out: StepResult[] = [];
    for (let i = 0; i < N; i++) {
      const o = bl.out + i * bl.rec;
      const logits = data.slice(o, o + nLogits);
      const embedding = data.slice(o + nLogits, o + nLogits + nEmb);
      const surprise = data[o + nLogits + nEmb + 2 * fs];
      const pos = this.t;
      cache.append(data.subarray(o + nLogits + nEmb, o + nLogits + nEmb + fs), data.subarray(o + nLogits + nEmb + fs, o + nLogits + nEmb + 2 * fs), pos, surprise, this.windowFrames);
      this.t++;
      this.policy(cache);
      out.push({ logits, probs: softmaxSlices(logits, this.adapters), embedding, surprise, t: pos, runMs, stepMs: perStep, batched: N });
    }
    return out;
  }

  /** Probabilities of one paradigm's adapter as label → p. */
  paradigmProbs(r: StepResult, paradigm: string): Record<string, number> {
    const s = this.adapters.find((a) => a.name === paradigm);
    if (!s) throw new Error(`model has no adapter '${paradigm}' (has ${this.adapters.map((a) => a.name).join(', ')})`);
    const out: Record<string, number> = {};
    for (let i = s.start; i < s.end; i++) out[this.labels[i]] = r.probs[i];
    return out;
  }

  /** Forget the stream: empty cache, position 0. */
  reset(): void {
    this.cache.clear();
    this.t = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    await new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.on('message', (m: WorkerResponse) => {
        if (m.type === 'closed') void this.worker.terminate();
      });
      this.call(CMD_CLOSE).catch(() => void this.worker.terminate());
      setTimeout(() => void this.worker.terminate(), 2000).unref();
    });
    this.sh.port.close();
  }
}
