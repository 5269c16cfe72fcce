/**
 * Low-level LSL inlet. Its pulls block up to `timeout` seconds, so it is meant to
 * live in a worker thread (see inlet-worker.ts) or to be used with timeout 0.
 */
import koffi from 'koffi';
import type { StreamMeta } from '../../src/types.ts';
import { describe } from './info.ts';
import { type ChannelFormat, LSL_ERR, liblsl } from './liblsl.ts';

export type PulledData = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | string[];

export interface Pulled {
  /** samples × channels, row-major, in the stream's native format (strings for string streams). */
  data: PulledData;
  timestamps: Float64Array;
  samples: number;
}

export class LslError extends Error {
  constructor(
    public readonly code: number,
    what: string,
  ) {
    super(`${what}: ${LSL_ERR[code] ?? `liblsl error ${code}`}`);
    this.name = 'LslError';
  }
}

const CTORS = {
  float32: Float32Array,
  double64: Float64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
} as const;

/** Formats this inlet can pull. int64 is refused with a clear error (no exact JS number type). */
export function assertPullable(format: ChannelFormat, name: string): void {
  if (format === 'int64')
    throw new Error(`stream "${name}": channel format int64 is not supported (values beyond 2^53 cannot be represented exactly)`);
}

export class StreamInlet {
  private handle: unknown;
  readonly meta: StreamMeta;
  readonly channels: number;
  readonly format: ChannelFormat;
  private ec = [0];

  /**
   * Resolve a stream by XPath predicate (blocking up to `timeout`; use in a worker or a
   * test process) and open an inlet on it. Resolved infos carry the sender's address,
   * which their XML does not, so an inlet is always made from a fresh resolve.
   */
  static resolve(
    pred: string,
    timeout: number,
    opts: { maxBuflen?: number; maxChunklen?: number; recover?: boolean } = {},
  ): StreamInlet | undefined {
    const L = liblsl();
    const buf = new Uint8Array(16 * 8);
    const n = L.lsl_resolve_bypred(buf, 16, pred, 1, timeout) as number;
    if (n <= 0) return undefined;
    const infos = Array.from({ length: n }, (_, i) => koffi.decode(buf, i * 8, 'void *'));
    try {
      return new StreamInlet(infos[0], opts);
    } finally {
      for (const p of infos) L.lsl_destroy_streaminfo(p);
    }
  }

  /**
   * @param info a native streaminfo handle from a resolve (not kept)
   * @param maxBuflen seconds of data liblsl buffers before dropping the oldest
   * @param recover let liblsl silently reconnect to a stream with the same source_id
   */
  constructor(info: unknown, opts: { maxBuflen?: number; maxChunklen?: number; recover?: boolean } = {}) {
    const L = liblsl();
    const meta = describe(info);
    assertPullable(meta.format, meta.name);
    if (meta.channelCount < 1) throw new Error(`stream "${meta.name}" declares ${meta.channelCount} channels; cannot open an inlet`);
    this.handle = L.lsl_create_inlet(info, opts.maxBuflen ?? 360, opts.maxChunklen ?? 0, opts.recover === false ? 0 : 1);
    if (!this.handle) throw new Error(`lsl_create_inlet failed for stream "${meta.name}"`);
    this.meta = meta;
    this.channels = meta.channelCount;
    this.format = meta.format;
  }

  private h(): unknown {
    if (!this.handle) throw new Error(`inlet "${this.meta.name}" is closed`);
    return this.handle;
  }

  /** Throw on a liblsl error code; a timeout is an error unless the call allows it. */
  private check(what: string, timeoutOk = false): void {
    const code = this.ec[0] ?? 0;
    this.ec[0] = 0;
    if (code === 0 || (code === -1 && timeoutOk)) return;
    throw new LslError(code, `${what} on "${this.meta.name}"`);
  }

  /** Subscribe now (data is buffered from this moment). Blocks up to `timeout`. */
  open(timeout = 5): void {
    liblsl().lsl_open_stream(this.h(), timeout, this.ec);
    this.check('open_stream');
  }

  /** Full info including desc (channel labels etc). Blocks up to `timeout`. */
  fullInfo(timeout = 5): StreamMeta {
    const L = liblsl();
    const info = L.lsl_get_fullinfo(this.h(), timeout, this.ec);
    this.check('get_fullinfo');
    try {
      return describe(info);
    } finally {
      L.lsl_destroy_streaminfo(info);
    }
  }

  /** Offset to add to remote timestamps to map them onto the local clock. Blocks up to `timeout`. */
  timeCorrection(timeout = 2): number {
    const v = liblsl().lsl_time_correction(this.h(), timeout, this.ec) as number;
    this.check('time_correction');
    return v;
  }

  samplesAvailable(): number {
    return liblsl().lsl_samples_available(this.h()) as number;
  }

  /**
   * Pull up to `maxSamples` samples. With timeout > 0, liblsl waits until the buffer is
   * full or the timeout passes, so for low latency use maxSamples = 1 with a timeout to
   * wait for data and then maxSamples = N with timeout 0 to drain.
   */
  pull(maxSamples: number, timeout = 0): Pulled {
    const L = liblsl();
    const h = this.h();
    const C = this.channels;
    const n = maxSamples * C;
    const ts = new Float64Array(maxSamples);
    if (this.format === 'string') {
      const ptrs = new Uint8Array(n * 8);
      const got = Number(L.lsl_pull_chunk_str(h, ptrs, ts, n, maxSamples, timeout, this.ec));
      this.check('pull_chunk_str', true);
      const strings: string[] = [];
      for (let i = 0; i < got; i++) {
        const p = koffi.decode(ptrs, i * 8, 'void *');
        strings.push(p ? (koffi.decode(p, 'char', -1) as string) : '');
        if (p) L.lsl_destroy_string(p);
      }
      const samples = got / C;
      return { data: strings, timestamps: ts.subarray(0, samples), samples };
    }
    const ctor = CTORS[this.format as keyof typeof CTORS];
    const buf = new ctor(n);
    const fn = {
      float32: L.lsl_pull_chunk_f,
      double64: L.lsl_pull_chunk_d,
      int32: L.lsl_pull_chunk_i,
      int16: L.lsl_pull_chunk_s,
      int8: L.lsl_pull_chunk_c,
    }[this.format as keyof typeof CTORS];
    const got = Number(fn(h, buf, ts, n, maxSamples, timeout, this.ec));
    this.check('pull_chunk', true);
    const samples = got / C;
    return { data: buf.subarray(0, got), timestamps: ts.subarray(0, samples), samples };
  }

  close(): void {
    if (!this.handle) return;
    const L = liblsl();
    L.lsl_close_stream(this.handle);
    L.lsl_destroy_inlet(this.handle);
    this.handle = undefined;
  }
}
