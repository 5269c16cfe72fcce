/**
 * How the model worker runs one step: through ONNX Runtime's C API with
 * tensors bound once over native memory (DirectStepSession, the fast path),
 * or through onnxruntime-node's binding (any step model, any execution
 * provider). Both expose the same input views and return the same outputs,
 * so the worker's shared-memory protocol does not depend on the choice.
 */
import * as ort from 'onnxruntime-node';
import { DirectStepSession } from './ort-direct.ts';
import { hasNewFrameOutputs, stepFetchNames, type StepDims } from './protocol.ts';

export interface StepOutputs {
  logits: Float32Array;
  embedding: Float32Array;
  surprise: number;
  /** This frame's keys/values [L, H, 1, Dh], when the model outputs them. */
  newK?: Float32Array;
  newV?: Float32Array;
  /** Otherwise the whole present [L, H, T+1, Dh]. */
  presentK?: Float32Array;
  presentV?: Float32Array;
}

export interface StepEngine {
  /** 'ort-c-api' or 'onnxruntime-node'. */
  readonly name: string;
  /** Input views, valid until the next shape() that changes C or T. */
  x: Float32Array;
  pos: Float32Array;
  pastK: Float32Array;
  pastV: Float32Array;
  /** Size the inputs for C channels and T cached frames (cheap when unchanged). */
  shape(C: number, T: number): void;
  /** Run on the current input views. The returned arrays may be reused by the next run. */
  run(t: number, speech: number, text: number): StepOutputs | Promise<StepOutputs>;
  release(): void | Promise<void>;
}

/** onnxruntime-node's binding's synchronous session (the public API wraps it in setImmediate + a Promise). */
export interface NativeSession {
  loadModel(path: string, options: ort.InferenceSession.SessionOptions): void;
  run(feeds: Record<string, ort.Tensor>, fetches: Record<string, null>, options: object): Record<string, { data: unknown }>;
  dispose(): void;
}

/**
 * The binding path: feeds built once per shape and refilled in place; the
 * binding's synchronous session when available (one native call per step, no
 * event-loop hop), else the public async API.
 */
export class BindingEngine implements StepEngine {
  readonly name = 'onnxruntime-node';
  x: Float32Array = new Float32Array(0);
  pos: Float32Array = new Float32Array(0);
  pastK: Float32Array = new Float32Array(0);
  pastV: Float32Array = new Float32Array(0);
  private readonly feeds: Record<string, ort.Tensor> = {};
  private readonly fetches: Record<string, null>;
  private readonly ids: Record<'t' | 'speech' | 'text', BigInt64Array>;
  private readonly hasNew: boolean;
  private readonly hasSurprise: boolean;
  private C = -1;
  private T = -1;

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly native: NativeSession | null,
    private readonly d: StepDims,
  ) {
    const scalar = () => new ort.Tensor('int64', new BigInt64Array(1), [1]);
    const t = scalar();
    this.feeds.t = t;
    const speech = scalar();
    const text = scalar();
    if (session.inputNames.includes('speech')) this.feeds.speech = speech;
    if (session.inputNames.includes('text')) this.feeds.text = text;
    this.ids = { t: t.data as BigInt64Array, speech: speech.data as BigInt64Array, text: text.data as BigInt64Array };
    // a model that outputs this frame's keys/values alone is asked for those, not the whole present
    this.hasNew = hasNewFrameOutputs(session.outputNames);
    this.hasSurprise = session.outputNames.includes('surprise');
    this.fetches = Object.fromEntries(stepFetchNames(session.outputNames).map((n) => [n, null]));
  }

  shape(C: number, T: number): void {
    const d = this.d;
    // ORT does not take views of shared memory, so the inputs are local buffers the worker copies into
    if (C !== this.C) {
      this.x = new Float32Array(C * d.F);
      this.pos = new Float32Array(C * d.P);
      this.feeds.x = new ort.Tensor('float32', this.x, [1, C, d.F]);
      this.feeds.pos_code = new ort.Tensor('float32', this.pos, [1, C, d.P]);
    }
    if (T !== this.T) {
      const fs = d.L * d.H * d.Dh;
      this.pastK = new Float32Array(T * fs);
      this.pastV = new Float32Array(T * fs);
      this.feeds.past_k = new ort.Tensor('float32', this.pastK, [d.L, d.H, T, d.Dh]);
      this.feeds.past_v = new ort.Tensor('float32', this.pastV, [d.L, d.H, T, d.Dh]);
    }
    this.C = C;
    this.T = T;
  }

  run(t: number, speech: number, text: number): StepOutputs | Promise<StepOutputs> {
    this.ids.t[0] = BigInt(t);
    this.ids.speech[0] = BigInt(speech);
    this.ids.text[0] = BigInt(text);
    if (this.native) return this.outputs(this.native.run(this.feeds, this.fetches, {}));
    return this.session.run(this.feeds, Object.keys(this.fetches)).then((r) => this.outputs(r as Record<string, { data: unknown }>));
  }

  private outputs(r: Record<string, { data: unknown }>): StepOutputs {
    const f = (n: string) => r[n].data as Float32Array;
    return {
      logits: f('logits'),
      embedding: f('embedding'),
      surprise: this.hasSurprise ? f('surprise')[0] : NaN,
      ...(this.hasNew ? { newK: f('new_k'), newV: f('new_v') } : { presentK: f('present_k'), presentV: f('present_v') }),
    };
  }

  release(): void {
    this.native?.dispose();
  }
}

/** The C API path (models with new_k/new_v outputs, CPU). */
export class DirectEngine implements StepEngine {
  readonly name = 'ort-c-api';
  private readonly s: DirectStepSession;
  private readonly out: StepOutputs;

  constructor(path: string, d: StepDims, opts: { intraOpThreads: number; optimization: 'disabled' | 'basic' | 'extended' | 'all'; inputs: string[]; outputs: string[] }) {
    this.s = new DirectStepSession(path, d, opts);
    const s = this.s;
    this.out = { logits: s.logits, embedding: s.embedding, surprise: NaN, newK: s.newK, newV: s.newV };
  }

  get x(): Float32Array {
    return this.s.x;
  }
  get pos(): Float32Array {
    return this.s.pos;
  }
  get pastK(): Float32Array {
    return this.s.pastK;
  }
  get pastV(): Float32Array {
    return this.s.pastV;
  }

  shape(C: number, T: number): void {
    this.s.shape(C, T);
  }

  run(t: number, speech: number, text: number): StepOutputs {
    const s = this.s;
    s.t[0] = BigInt(t);
    s.speech[0] = BigInt(speech);
    s.text[0] = BigInt(text);
    s.run();
    this.out.surprise = s.surprise[0];
    return this.out;
  }

  release(): void {
    this.s.release();
  }
}
