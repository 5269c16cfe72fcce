import type { MessagePort } from 'node:worker_threads';

/**
 * Main thread ↔ ONNX session worker. Setup and teardown use messages; every
 * step goes through shared memory (no postMessage on the hot path):
 *
 *  ctl (Int32Array over a SharedArrayBuffer, CTL_INTS):
 *    [SEQ]  request counter: the caller writes the inputs, bumps it and
 *           Atomics.notify()s; the worker Atomics.wait()s on it
 *    [DONE] reply counter: the worker writes the outputs, sets it to SEQ and
 *           notifies; the caller awaits it with Atomics.waitAsync()
 *    [CMD]  CMD_STEP | CMD_REMAP (new buffers wait on the side port as a
 *           Remap message: receiveMessageOnPort) | CMD_CLOSE
 *    [STATUS] 0 ok, 1 error (UTF-8 message in the data buffer's text area)
 *    [C], [T], [POS_T], [SPEECH], [TEXT]: step dimensions and ids
 *    [K_OFF], [V_OFF]: float offsets of the cache's [L, H, T, Dh] block in the k / v buffers
 *    [POS_SAME] 1: the position codes equal the previous step's and were not
 *           rewritten (the worker keeps its copy)
 *    [N_LOGITS], [N_EMB]: output lengths written by the worker
 *    [N], [WINDOW] (CMD_STEP_MANY): frames in the batch; the window the cache keeps
 *    [FULL] 0: only the new frame came back (newK/newV, [L, H, Dh]);
 *           1: the whole present K/V (presK/presV, [L, H, T+1, Dh]), for a
 *           model whose present is not past ⊕ new frame
 *  f64 (Float64Array over the same buffer): [RUN_MS], [SURPRISE]
 *  data (Float32Array over a second SharedArrayBuffer):
 *    logits [nLogits] | embedding [nEmb] | newK | newV | x [C·F] | pos [C·P] | present_k | present_v
 *    the fixed-size outputs come first so their offsets do not move with C or T;
 *    the error text lives in its last ERR_BYTES bytes.
 *  k, v (Float32Arrays over two more SharedArrayBuffers): the KvCache's own
 *    storage, holding the [L, H, T, Dh] block at K_OFF / V_OFF. The worker
 *    reads past_k / past_v from there, so the caller copies no cache per step.
 */

export interface WorkerInit {
  path: string;
  device: 'cpu' | 'gpu';
  intraOpThreads: number;
  optimization: 'disabled' | 'basic' | 'extended' | 'all';
  /** 'auto': ORT's C API when the model allows it, else the binding; 'binding': always the binding. */
  engine: 'auto' | 'binding';
}

export interface IoMeta {
  name: string;
  shape: (number | string)[];
  type: string;
}

export const CTL = { SEQ: 0, DONE: 1, CMD: 2, STATUS: 3, C: 4, T: 5, POS_T: 6, SPEECH: 7, TEXT: 8, N_LOGITS: 9, N_EMB: 10, FULL: 11, POS_SAME: 12, K_OFF: 13, V_OFF: 14, N: 15, WINDOW: 16 } as const;
export const CTL_INTS = 20; // 80 bytes; the Float64 fields follow
export const F64 = { RUN_MS: 0, SURPRISE: 1 } as const;
export const CTL_BYTES = CTL_INTS * 4 + 2 * 8;
export const CMD_STEP = 1;
export const CMD_REMAP = 2;
export const CMD_CLOSE = 3;
/** N frames in a row (batch region), the past K/V sliding as the default window policy would slide it. */
export const CMD_STEP_MANY = 4;
export const ERR_BYTES = 2048;

/** The model also outputs this frame's keys/values alone (new_k/new_v), promising present = past ⊕ new. */
export function hasNewFrameOutputs(outputNames: readonly string[]): boolean {
  return outputNames.includes('new_k') && outputNames.includes('new_v');
}

/** The outputs a step fetches: not the whole present when new_k/new_v carry the new frame. */
export function stepFetchNames(outputNames: readonly string[]): string[] {
  return hasNewFrameOutputs(outputNames) ? outputNames.filter((n) => n !== 'present_k' && n !== 'present_v') : [...outputNames];
}

/** Model dimensions both sides need to lay out the data buffer. */
export interface StepDims {
  F: number;
  P: number;
  L: number;
  H: number;
  Dh: number;
  /** Room reserved for logits and embedding (the worker fails a step whose outputs are longer). */
  nLogits: number;
  nEmb: number;
}

/** Float offsets of the regions of the data buffer for C channels and T cached frames. */
export function layout(d: StepDims, C: number, T: number) {
  const fs = d.L * d.H * d.Dh;
  const kv1 = fs * (T + 1);
  const logits = 0;
  const emb = logits + d.nLogits;
  const newK = emb + d.nEmb;
  const newV = newK + fs;
  const x = newV + fs;
  const pos = x + C * d.F;
  const presK = pos + C * d.P;
  const presV = presK + kv1;
  const end = presV + kv1;
  return { logits, emb, newK, newV, x, pos, presK, presV, end, kv1 };
}

/**
 * Float offsets of the batch region for CMD_STEP_MANY: after the single-step
 * regions of `layout(d, C, T)`, N frames of features, their speech/text ids
 * and one output record per frame (logits | embedding | new K | new V | surprise).
 */
export function batchLayout(d: StepDims, C: number, T: number, N: number) {
  const fs = d.L * d.H * d.Dh;
  const x = layout(d, C, T).end;
  const ids = x + N * C * d.F;
  const out = ids + 2 * N;
  const rec = d.nLogits + d.nEmb + 2 * fs + 1;
  return { x, ids, out, rec, end: out + N * rec, fs };
}

/** Buffers handed over with CMD_REMAP (those that changed). */
export interface Remap {
  data?: SharedArrayBuffer;
  k?: SharedArrayBuffer;
  v?: SharedArrayBuffer;
}

export type WorkerRequest =
  | { type: 'attach'; ctl: SharedArrayBuffer; data: SharedArrayBuffer; k: SharedArrayBuffer; v: SharedArrayBuffer; port: MessagePort; dims: StepDims }
  | { type: 'close' };

export type WorkerResponse =
  | { type: 'ready'; backend: string; fallbackReason?: string; inputs: IoMeta[]; outputs: IoMeta[] }
  | { type: 'attached'; engine: string }
  | { type: 'error'; id?: number; message: string }
  | { type: 'closed' };
