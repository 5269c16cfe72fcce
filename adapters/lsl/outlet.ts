/** LSL outlets: publish numeric chunks and string markers through the real liblsl. */
import { createInfo, type StreamSpec } from './info.ts';
import { liblsl } from './liblsl.ts';

export type NumericArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array;

/**
 * A real LSL outlet. Pushes are non-blocking in liblsl (they enqueue), so they are
 * safe on the event loop.
 */
export class StreamOutlet {
  private handle: unknown;
  readonly spec: StreamSpec;

  constructor(spec: StreamSpec) {
    const L = liblsl();
    const info = createInfo(spec);
    const maxBuffered = spec.maxBuffered ?? 360;
    this.handle = L.lsl_create_outlet(info, spec.chunkSize ?? 0, maxBuffered);
    L.lsl_destroy_streaminfo(info);
    if (!this.handle) throw new Error(`lsl_create_outlet failed for stream "${spec.name}"`);
    this.spec = spec;
  }

  private live(): unknown {
    if (!this.handle) throw new Error(`outlet "${this.spec.name}" is closed`);
    return this.handle;
  }

  private stamps(n: number, ts: Float64Array | number): Float64Array {
    if (typeof ts !== 'number') {
      if (ts.length !== n) throw new Error(`outlet "${this.spec.name}": ${ts.length} timestamps for ${n} samples`);
      return ts;
    }
    // A single number is the last sample's time; earlier ones step back at the nominal rate.
    const out = new Float64Array(n);
    const dt = this.spec.srate > 0 ? 1 / this.spec.srate : 0;
    for (let i = 0; i < n; i++) out[i] = ts - (n - 1 - i) * dt;
    return out;
  }

  /** Push samples × channels (row-major) with per-sample timestamps or the last sample's time. */
  pushChunk(data: NumericArray, timestamps: Float64Array | number): void {
    const C = this.spec.channelCount;
    if (data.length % C !== 0)
      throw new Error(`outlet "${this.spec.name}": ${data.length} values is not a multiple of ${C} channels`);
    const n = data.length / C;
    if (n === 0) return;
    const ts = this.stamps(n, timestamps);
    const L = liblsl();
    const h = this.live();
    const fmt = this.spec.format;
    let rc: number;
    if (fmt === 'float32') rc = L.lsl_push_chunk_ftn(h, toType(data, Float32Array), data.length, ts) as number;
    else if (fmt === 'double64') rc = L.lsl_push_chunk_dtn(h, toType(data, Float64Array), data.length, ts) as number;
    else if (fmt === 'int32') rc = L.lsl_push_chunk_itn(h, toType(data, Int32Array), data.length, ts) as number;
    else if (fmt === 'int16') rc = L.lsl_push_chunk_stn(h, toType(data, Int16Array), data.length, ts) as number;
    else if (fmt === 'int8') rc = L.lsl_push_chunk_ctn(h, toType(data, Int8Array), data.length, ts) as number;
    else throw new Error(`outlet "${this.spec.name}": pushChunk on a ${fmt} stream; use pushStrings`);
    if (rc !== 0) throw new Error(`outlet "${this.spec.name}": liblsl push failed with code ${rc}`);
  }

  /** Push string samples (one string per channel per sample, row-major). */
  pushStrings(strings: string[], timestamps: Float64Array | number): void {
    if (this.spec.format !== 'string') throw new Error(`outlet "${this.spec.name}" is ${this.spec.format}, not string`);
    const C = this.spec.channelCount;
    if (strings.length % C !== 0)
      throw new Error(`outlet "${this.spec.name}": ${strings.length} strings is not a multiple of ${C} channels`);
    const n = strings.length / C;
    if (n === 0) return;
    const rc = liblsl().lsl_push_chunk_strtn(this.live(), strings, strings.length, this.stamps(n, timestamps)) as number;
    if (rc !== 0) throw new Error(`outlet "${this.spec.name}": liblsl push failed with code ${rc}`);
  }

  haveConsumers(): boolean {
    return (liblsl().lsl_have_consumers(this.live()) as number) !== 0;
  }

  close(): void {
    if (!this.handle) return;
    liblsl().lsl_destroy_outlet(this.handle);
    this.handle = undefined;
  }
}

function toType<T extends NumericArray>(data: NumericArray, ctor: { new (a: ArrayLike<number>): T; prototype: T }): T {
  return data instanceof ctor ? (data as T) : new ctor(data);
}

