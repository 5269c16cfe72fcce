/**
 * XDF 1.0 reader.
 *
 * File = "XDF:" + chunks. Chunk = [n: 1 byte ∈ {1,4,8}] [length: n-byte LE
 * uint, counts tag + content] [tag: uint16 LE] [content]. Tags: 1 FileHeader
 * (XML), 2 StreamHeader (u32 stream id + XML), 3 Samples (u32 id + varlen
 * count + samples), 4 ClockOffset (u32 id + f64 collection time + f64 offset),
 * 5 Boundary (16-byte UUID), 6 StreamFooter (u32 id + XML). A sample is
 * [0 | 8] [f64 timestamp if 8] [values]; an omitted timestamp is the previous
 * one plus 1/nominal_srate. String values are varlen length + UTF-8 bytes.
 *
 * `readXdfChunks` streams decoded chunks (for replay: constant memory);
 * `readXdf` collects whole streams and optionally synchronises clocks and
 * dejitters. A file cut short or corrupted yields everything up to the last
 * complete chunk plus a warning; `strict: true` throws `XdfFormatError`
 * naming the file and the byte offset instead.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { logger } from '../../src/log.ts';
import { XdfFormatError } from './errors.ts';
import {
  parseStreamFooter,
  parseStreamInfo,
  parseXml,
  type XdfChannelFormat,
  type XdfFooter,
  type XdfStreamInfo,
} from './xml.ts';
import {
  applyClockSync,
  clockSegments,
  dejitter as dejitterTimestamps,
  effectiveSrate as measureSrate,
  type ClockSegment,
  type ClockSyncOptions,
  type DejitterOptions,
} from './sync.ts';

const log = logger('xdf-reader');

export type XdfNumericData = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array;
/** Samples × channels, row-major. Strings are a flat string[] in the same layout. */
export type XdfData = XdfNumericData | string[];

export const BOUNDARY_UUID = Buffer.from([
  0x43, 0xa5, 0x46, 0xdc, 0xcb, 0xf5, 0x41, 0x0f, 0xb3, 0x0e, 0xd5, 0x46, 0x73, 0x83, 0xcb, 0xe4,
]);

export const TAG = { FileHeader: 1, StreamHeader: 2, Samples: 3, ClockOffset: 4, Boundary: 5, StreamFooter: 6 } as const;

export const FORMAT_BYTES: Record<XdfChannelFormat, number> = {
  float32: 4,
  double64: 8,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  string: 0,
};

export type XdfChunk =
  | { tag: 'fileHeader'; offset: number; xml: string }
  | { tag: 'streamHeader'; offset: number; streamId: number; xml: string; info: XdfStreamInfo }
  | {
      tag: 'samples';
      offset: number;
      streamId: number;
      nSamples: number;
      nChannels: number;
      format: XdfChannelFormat;
      data: XdfData;
      /** As stored, omitted ones deduced (previous + 1/nominal_srate). */
      timestamps: Float64Array;
      /** How many of the timestamps were stored explicitly. */
      explicitTimestamps: number;
    }
  | { tag: 'clockOffset'; offset: number; streamId: number; collectionTime: number; offsetValue: number }
  | { tag: 'boundary'; offset: number }
  | { tag: 'streamFooter'; offset: number; streamId: number; xml: string; footer: XdfFooter };

export interface XdfChunkOptions {
  /** Throw on truncated/corrupt input instead of stopping with a warning (default false). */
  strict?: boolean;
  /** Collects warnings (also logged). */
  warnings?: string[];
  /** Read size in bytes (default 4 MiB). */
  blockSize?: number;
}

class Cursor {
  buf = Buffer.alloc(0);
  /** File offset of buf[0]. */
  base = 0;
  /** Read position in buf. */
  i = 0;
  private eof = false;

  constructor(
    private fh: FileHandle,
    readonly size: number,
    private block: number,
  ) {}

  get offset(): number {
    return this.base + this.i;
  }

  /** Make `n` bytes available from the read position; false at end of file. */
  async need(n: number): Promise<boolean> {
    while (this.buf.length - this.i < n && !this.eof) {
      const left = this.buf.length - this.i;
      const want = Math.max(this.block, n - left);
      const next = Buffer.allocUnsafe(left + want);
      this.buf.copy(next, 0, this.i);
      const { bytesRead } = await this.fh.read(next, left, want, this.base + this.buf.length);
      this.base += this.i;
      this.i = 0;
      this.buf = next.subarray(0, left + bytesRead);
      if (bytesRead === 0) this.eof = true;
    }
    return this.buf.length - this.i >= n;
  }
}

function readVarUint(b: Buffer, p: number, n: number): number {
  if (n === 1) return b[p]!;
  if (n === 4) return b.readUInt32LE(p);
  const v = b.readBigUInt64LE(p);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.POSITIVE_INFINITY;
  return Number(v);
}

interface StreamState {
  info: XdfStreamInfo;
  last: number;
  tdiff: number;
}

const utf8 = new TextDecoder('utf-8');
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

function newNumeric(format: XdfChannelFormat, n: number): XdfNumericData {
  switch (format) {
    case 'float32':
      return new Float32Array(n);
    case 'double64':
      return new Float64Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    default:
      throw new Error(`not a numeric format: ${format}`);
  }
}

/**
 * Decode the chunks of an XDF file one by one. Stream headers are needed to
 * decode samples, so the generator keeps per-stream state.
 */
export async function* readXdfChunks(path: string, opts: XdfChunkOptions = {}): AsyncGenerator<XdfChunk> {
  const warnings = opts.warnings ?? [];
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new XdfFormatError(path, 0, `cannot open file: ${(err as Error).message}`);
  }
  try {
    const size = (await fh.stat()).size;
    const cur = new Cursor(fh, size, opts.blockSize ?? 4 << 20);
    if (!(await cur.need(4)) || cur.buf.toString('latin1', 0, 4) !== 'XDF:') {
      const got = cur.buf.subarray(0, 4);
      throw new XdfFormatError(path, 0, `not an XDF file: expected magic "XDF:", found ${JSON.stringify(got.toString('latin1'))}${got.length < 4 ? ' (file shorter than 4 bytes)' : ''}`);
    }
    cur.i = 4;
    const streams = new Map<number, StreamState>();

    /** Stop reading here: warning (lenient) or error (strict). */
    const fail = (offset: number, detail: string): void => {
      if (opts.strict) throw new XdfFormatError(path, offset, detail);
      const msg = `${path}: byte offset ${offset}: ${detail}; returning the data before it`;
      warnings.push(msg);
      log.warn({ file: path, offset }, msg);
    };

    for (;;) {
      const start = cur.offset;
      if (!(await cur.need(1))) break; // clean end of file
      const nlb = cur.buf[cur.i]!;
      if (nlb !== 1 && nlb !== 4 && nlb !== 8) {
        fail(start, `corrupt chunk: length-field size byte is ${nlb} (must be 1, 4 or 8)`);
        return;
      }
      if (!(await cur.need(1 + nlb + 2))) {
        fail(start, `file cut short inside a chunk header (file ends at byte ${size})`);
        return;
      }
      const len = readVarUint(cur.buf, cur.i + 1, nlb);
      if (len < 2) {
        fail(start, `corrupt chunk: length ${len} is smaller than its 2-byte tag`);
        return;
      }
      const tagNum = cur.buf.readUInt16LE(cur.i + 1 + nlb);
      if (tagNum < 1 || tagNum > 6) {
        fail(start, `corrupt chunk: unknown tag ${tagNum}`);
        return;
      }
      const end = start + 1 + nlb + len;
      if (end > size) {
        const lenText = Number.isFinite(len) ? String(len) : cur.buf.readBigUInt64LE(cur.i + 1).toString();
        const endText = Number.isFinite(end) ? String(end) : `${start} + ${lenText}`;
        fail(start, `file cut short (or corrupt length): chunk (tag ${tagNum}) of ${lenText} bytes would end at byte ${endText}, past the end of the file at byte ${size}`);
        return;
      }
      await cur.need(1 + nlb + len);
      const contentOffset = start + 1 + nlb + 2;
      const content = cur.buf.subarray(cur.i + 1 + nlb + 2, cur.i + 1 + nlb + len);
      cur.i += 1 + nlb + len;

      let chunk: XdfChunk | undefined;
      try {
        chunk = decodeChunk(tagNum, content, start, contentOffset, streams, path, warnings);
      } catch (err) {
        if (err instanceof ChunkError) {
          fail(err.offset, err.message);
          return;
        }
        throw err;
      }
      if (chunk) yield chunk;
    }
  } finally {
    await fh.close();
  }
}

class ChunkError extends Error {
  constructor(
    readonly offset: number,
    msg: string,
  ) {
    super(msg);
  }
}

function decodeChunk(
  tag: number,
  c: Buffer,
  offset: number,
  co: number,
  streams: Map<number, StreamState>,
  path: string,
  warnings: string[],
): XdfChunk | undefined {
  const needBytes = (p: number, n: number, what: string): void => {
    if (p + n > c.length) throw new ChunkError(co + p, `corrupt chunk at byte ${offset}: ${what} runs past the end of the chunk`);
  };
  switch (tag) {
    case TAG.FileHeader: {
      const xml = utf8.decode(c);
      try {
        parseXml(xml);
      } catch (err) {
        throw new ChunkError(co, `corrupt file header XML: ${(err as Error).message}`);
      }
      return { tag: 'fileHeader', offset, xml };
    }
    case TAG.StreamHeader: {
      needBytes(0, 4, 'stream id');
      const streamId = c.readUInt32LE(0);
      const xml = utf8.decode(c.subarray(4));
      let info: XdfStreamInfo;
      try {
        info = parseStreamInfo(xml);
      } catch (err) {
        throw new ChunkError(co + 4, `corrupt stream header of stream ${streamId}: ${(err as Error).message}`);
      }
      if (streams.has(streamId)) warnings.push(`${path}: byte offset ${offset}: second header for stream ${streamId} replaces the first`);
      streams.set(streamId, { info, last: 0, tdiff: info.nominal_srate > 0 ? 1 / info.nominal_srate : 0 });
      return { tag: 'streamHeader', offset, streamId, xml, info };
    }
    case TAG.Samples: {
      needBytes(0, 5, 'stream id and sample count');
      const streamId = c.readUInt32LE(0);
      const st = streams.get(streamId);
      if (!st) {
        const msg = `${path}: byte offset ${offset}: samples for stream ${streamId} before its header; chunk skipped`;
        warnings.push(msg);
        log.warn({ file: path, offset }, msg);
        return undefined;
      }
      const nb = c[4]!;
      if (nb !== 1 && nb !== 4 && nb !== 8) throw new ChunkError(co + 4, `corrupt samples chunk at byte ${offset}: sample-count size byte is ${nb}`);
      needBytes(5, nb, 'sample count');
      const n = readVarUint(c, 5, nb);
      let p = 5 + nb;
      const nch = st.info.channel_count;
      const format = st.info.channel_format;
      // Every sample needs at least its 1-byte timestamp marker.
      if (n > c.length - p) throw new ChunkError(co + 5, `corrupt samples chunk at byte ${offset}: ${n} samples cannot fit in ${c.length} bytes`);
      const timestamps = new Float64Array(n);
      let explicit = 0;
      const readTs = (q: number, k: number): number => {
        needBytes(q, 1, `timestamp marker of sample ${k}`);
        const m = c[q]!;
        if (m === 8) {
          needBytes(q + 1, 8, `timestamp of sample ${k}`);
          st.last = c.readDoubleLE(q + 1);
          timestamps[k] = st.last;
          explicit++;
          return q + 9;
        }
        if (m === 0) {
          st.last = st.last + st.tdiff;
          timestamps[k] = st.last;
          return q + 1;
        }
        throw new ChunkError(co + q, `corrupt samples chunk at byte ${offset}: timestamp marker of sample ${k} is ${m} (must be 0 or 8)`);
      };
      let data: XdfData;
      if (format === 'string') {
        const strs: string[] = new Array(n * nch);
        for (let k = 0; k < n; k++) {
          p = readTs(p, k);
          for (let j = 0; j < nch; j++) {
            needBytes(p, 1, `length of string value ${j} of sample ${k}`);
            const lb = c[p]!;
            if (lb !== 1 && lb !== 4 && lb !== 8) throw new ChunkError(co + p, `corrupt samples chunk at byte ${offset}: string length size byte is ${lb}`);
            needBytes(p + 1, lb, `length of string value ${j} of sample ${k}`);
            const sl = readVarUint(c, p + 1, lb);
            p += 1 + lb;
            needBytes(p, sl, `string value ${j} of sample ${k}`);
            strs[k * nch + j] = utf8.decode(c.subarray(p, p + sl));
            p += sl;
          }
        }
        data = strs;
      } else {
        const width = FORMAT_BYTES[format];
        const row = width * nch;
        const arr = newNumeric(format, n * nch);
        const u8 = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
        for (let k = 0; k < n; k++) {
          p = readTs(p, k);
          needBytes(p, row, `values of sample ${k}`);
          u8.set(c.subarray(p, p + row), k * row);
          p += row;
        }
        if (!LITTLE_ENDIAN_HOST && width > 1) {
          for (let q = 0; q < u8.length; q += width) u8.subarray(q, q + width).reverse();
        }
        data = arr;
      }
      if (p !== c.length) {
        warnings.push(`${path}: byte offset ${co + p}: ${c.length - p} unused bytes at the end of a samples chunk of stream ${streamId}`);
      }
      return { tag: 'samples', offset, streamId, nSamples: n, nChannels: nch, format, data, timestamps, explicitTimestamps: explicit };
    }
    case TAG.ClockOffset: {
      needBytes(0, 20, 'clock offset');
      return {
        tag: 'clockOffset',
        offset,
        streamId: c.readUInt32LE(0),
        collectionTime: c.readDoubleLE(4),
        offsetValue: c.readDoubleLE(12),
      };
    }
    case TAG.Boundary: {
      if (c.length !== 16 || !c.equals(BOUNDARY_UUID)) {
        warnings.push(`${path}: byte offset ${offset}: boundary chunk with an unexpected UUID`);
      }
      return { tag: 'boundary', offset };
    }
    case TAG.StreamFooter: {
      needBytes(0, 4, 'stream id');
      const streamId = c.readUInt32LE(0);
      const xml = utf8.decode(c.subarray(4));
      let footer: XdfFooter;
      try {
        footer = parseStreamFooter(xml);
      } catch (err) {
        throw new ChunkError(co + 4, `corrupt stream footer of stream ${streamId}: ${(err as Error).message}`);
      }
      return { tag: 'streamFooter', offset, streamId, xml, footer };
    }
  }
  return undefined;
}

export interface XdfStream {
  id: number;
  info: XdfStreamInfo;
  headerXml: string;
  footerXml?: string;
  footer?: XdfFooter;
  nChannels: number;
  format: XdfChannelFormat;
  nSamples: number;
  /** Samples × channels, row-major (strings: flat string[]). */
  data: XdfData;
  /** Timestamps as stored (omitted ones deduced), sender clock. */
  timestamps: Float64Array;
  /** Timestamps after clock synchronisation and/or dejittering (only when asked for). */
  syncedTimestamps?: Float64Array;
  /** Clock offset measurements, in file order. */
  clockTimes: Float64Array;
  clockValues: Float64Array;
  /** Clock segments (split at resets) and their fits, when `sync` was asked for. */
  clockSegments?: ClockSegment[];
  /** Measured sampling rate (0 for irregular or too short streams). */
  effectiveSrate: number;
}

export interface XdfFile {
  file: string;
  headerXml: string;
  /** Children of the file header's <info> (e.g. version, datetime). */
  header: Record<string, string>;
  streams: XdfStream[];
  /** Number of boundary chunks seen. */
  boundaries: number;
  warnings: string[];
}

export interface XdfReadOptions extends ClockSyncOptions, DejitterOptions {
  strict?: boolean;
  /** Apply clock offsets (per clock segment, robust linear fit) → `syncedTimestamps`. */
  sync?: boolean;
  /**
   * Dejitter regular streams (line over sample index per segment) → `syncedTimestamps`.
   * true: least squares (pyxdf-compatible); 'robust': Huber-weighted, see `dejitterHuberSeconds`.
   */
  dejitter?: boolean | 'robust';
  /** Residual (s) beyond which a timestamp is down-weighted by `dejitter: 'robust'` (default 0.5 / nominal_srate). */
  dejitterHuberSeconds?: number;
  blockSize?: number;
}

/** Read a whole XDF file into memory. */
export async function readXdf(path: string, opts: XdfReadOptions = {}): Promise<XdfFile> {
  const warnings: string[] = [];
  let headerXml = '';
  let boundaries = 0;
  interface Acc {
    id: number;
    info: XdfStreamInfo;
    headerXml: string;
    footerXml?: string;
    footer?: XdfFooter;
    data: XdfData[];
    ts: Float64Array[];
    n: number;
    ct: number[];
    cv: number[];
  }
  const acc = new Map<number, Acc>();
  const order: number[] = [];
  const chunkOpts: XdfChunkOptions = { warnings };
  if (opts.strict !== undefined) chunkOpts.strict = opts.strict;
  if (opts.blockSize !== undefined) chunkOpts.blockSize = opts.blockSize;
  for await (const ch of readXdfChunks(path, chunkOpts)) {
    switch (ch.tag) {
      case 'fileHeader':
        headerXml = ch.xml;
        break;
      case 'streamHeader':
        if (!acc.has(ch.streamId)) order.push(ch.streamId);
        acc.set(ch.streamId, { id: ch.streamId, info: ch.info, headerXml: ch.xml, data: [], ts: [], n: 0, ct: [], cv: [] });
        break;
      case 'samples': {
        const a = acc.get(ch.streamId)!;
        a.data.push(ch.data);
        a.ts.push(ch.timestamps);
        a.n += ch.nSamples;
        break;
      }
      case 'clockOffset': {
        const a = acc.get(ch.streamId);
        if (!a) {
          warnings.push(`${path}: byte offset ${ch.offset}: clock offset for unknown stream ${ch.streamId} ignored`);
          break;
        }
        a.ct.push(ch.collectionTime);
        a.cv.push(ch.offsetValue);
        break;
      }
      case 'boundary':
        boundaries++;
        break;
      case 'streamFooter': {
        const a = acc.get(ch.streamId);
        if (!a) {
          warnings.push(`${path}: byte offset ${ch.offset}: footer for unknown stream ${ch.streamId} ignored`);
          break;
        }
        a.footerXml = ch.xml;
        a.footer = ch.footer;
        break;
      }
    }
  }

  const header: Record<string, string> = {};
  if (headerXml) {
    for (const c of parseXml(headerXml).children) if (c.children.length === 0) header[c.name] = c.text.trim();
  }

  const streams: XdfStream[] = order.map((id) => {
    const a = acc.get(id)!;
    const nch = a.info.channel_count;
    const format = a.info.channel_format;
    const timestamps = concatF64(a.ts, a.n);
    let data: XdfData;
    if (format === 'string') {
      data = ([] as string[]).concat(...(a.data as string[][]));
    } else {
      const out = newNumeric(format, a.n * nch);
      let o = 0;
      for (const d of a.data as XdfNumericData[]) {
        (out as unknown as { set(x: ArrayLike<unknown>, o: number): void }).set(d as ArrayLike<unknown>, o);
        o += d.length;
      }
      data = out;
    }
    const s: XdfStream = {
      id,
      info: a.info,
      headerXml: a.headerXml,
      nChannels: nch,
      format,
      nSamples: a.n,
      data,
      timestamps,
      clockTimes: Float64Array.from(a.ct),
      clockValues: Float64Array.from(a.cv),
      effectiveSrate: measureSrate(timestamps, a.info.nominal_srate, opts),
    };
    if (a.footerXml !== undefined) s.footerXml = a.footerXml;
    if (a.footer) s.footer = a.footer;
    if (opts.sync || opts.dejitter) {
      let t = timestamps;
      if (opts.sync) {
        s.clockSegments = clockSegments(s.clockTimes, s.clockValues, opts);
        t = applyClockSync(timestamps, s.clockSegments);
      } else t = Float64Array.from(timestamps);
      if (opts.dejitter && a.info.nominal_srate > 0 && t.length >= 2) {
        const huberSeconds =
          opts.dejitter === 'robust' ? (opts.dejitterHuberSeconds ?? 0.5 / a.info.nominal_srate) : Number.POSITIVE_INFINITY;
        const d = dejitterTimestamps(t, a.info.nominal_srate, { ...opts, huberSeconds });
        t = d.timestamps;
        s.effectiveSrate = d.effectiveSrate;
      }
      s.syncedTimestamps = t;
    }
    return s;
  });
  return { file: path, headerXml, header, streams, boundaries, warnings };
}

function concatF64(parts: Float64Array[], n: number): Float64Array {
  const out = new Float64Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
