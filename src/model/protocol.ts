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
 *    [CMD]  CMD_STEP | CMD_REMAP (a bigger data buffer waits on the side
 *           port: receiveMessageOnPort) | CMD_CLOSE
 *    [STATUS] 0 ok, 1 error (UTF-8 message in the data buffer's text area)
 *    [C], [T], [POS_T], [SPEECH], [TEXT]: step dimensions and ids
 *    [N_LOGITS], [N_EMB], [N_PRESENT]: output lengths written by the worker
 *  f64 (Float64Array over the same buffer): [RUN_MS], [SURPRISE]
 *  data (Float32Array over a second SharedArrayBuffer):
 *    x [C·F] | pos [C·P] | past_k [L·H·T·Dh] | past_v | logits | embedding | present_k | present_v
 *    the error text lives in its last ERR_BYTES bytes.
 */

export interface WorkerInit {
  path: string;
  device: 'cpu' | 'gpu';
  intraOpThreads: number;
  optimization: 'disabled' | 'basic' | 'extended' | 'all';
}

export interface IoMeta {
  name: string;
  shape: (number | string)[];
  type: string;
}

export const CTL = { SEQ: 0, DONE: 1, CMD: 2, STATUS: 3, C: 4, T: 5, POS_T: 6, SPEECH: 7, TEXT: 8, N_LOGITS: 9, N_EMB: 10, N_PRESENT: 11 } as const;
export const CTL_INTS = 16; // 64 bytes; the Float64 fields follow
export const F64 = { RUN_MS: 0, SURPRISE: 1 } as const;
export const CTL_BYTES = CTL_INTS * 4 + 2 * 8;
export const CMD_STEP = 1;
export const CMD_REMAP = 2;
export const CMD_CLOSE = 3;
export const ERR_BYTES = 2048;

/** Model dimensions both sides need to lay out the data buffer. */
export interface StepDims {
  F: number;
  P: number;
  L: number;
  H: number;
  Dh: number;
}

/** Float offsets of the regions of the data buffer for C channels and T cached frames. */
export function layout(d: StepDims, C: number, T: number, nLogits: number, nEmb: number) {
  const kv = d.L * d.H * T * d.Dh;
  const kv1 = d.L * d.H * (T + 1) * d.Dh;
  const x = 0;
  const pos = x + C * d.F;
  const pastK = pos + C * d.P;
  const pastV = pastK + kv;
  const logits = pastV + kv;
  const emb = logits + nLogits;
  const presK = emb + nEmb;
  const presV = presK + kv1;
  const end = presV + kv1;
  return { x, pos, pastK, pastV, logits, emb, presK, presV, end, kv, kv1 };
}

export type WorkerRequest =
  | { type: 'attach'; ctl: SharedArrayBuffer; data: SharedArrayBuffer; port: MessagePort; dims: StepDims }
  | { type: 'close' };

export type WorkerResponse =
  | { type: 'ready'; backend: string; fallbackReason?: string; inputs: IoMeta[]; outputs: IoMeta[] }
  | { type: 'attached' }
  | { type: 'error'; id?: number; message: string }
  | { type: 'closed' };
