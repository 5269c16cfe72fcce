/** Messages between the model runner (main thread) and the ONNX session worker. */

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

export type WorkerRequest =
  | {
      type: 'step';
      id: number;
      x: Float32Array;
      pos: Float32Array;
      t: number;
      pastK: Float32Array;
      pastV: Float32Array;
      speech: number;
      text: number;
      dims: { C: number; F: number; P: number; L: number; H: number; Dh: number; T: number };
    }
  | { type: 'close' };

export type WorkerResponse =
  | { type: 'ready'; backend: string; fallbackReason?: string; inputs: IoMeta[]; outputs: IoMeta[] }
  | {
      type: 'result';
      id: number;
      logits: Float32Array;
      embedding: Float32Array;
      surprise: number;
      presentK: Float32Array;
      presentV: Float32Array;
      runMs: number;
    }
  | { type: 'error'; id?: number; message: string }
  | { type: 'closed' };
