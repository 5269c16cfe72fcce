/**
 * XDF 1.0 writer for recording live sessions.
 *
 * The `append*` calls are synchronous and only encode into memory: they never
 * touch the disk, so acquisition is never blocked by I/O. A timer (default
 * every 250 ms) seals the buffered samples of each stream into one Samples
 * chunk and hands the bytes to an asynchronous file write (one write in flight
 * at a time). A process killed at any moment (SIGKILL) therefore leaves a file
 * whose complete chunks hold everything appended up to roughly one flush
 * interval plus one write before the kill; the reader drops the cut chunk.
 *
 * Timestamps are omitted for a sample when the stream has a nominal rate and
 * the sample's timestamp is exactly (bit for bit) the previous one plus
 * 1/nominal_srate, which is how the reader rebuilds it, so round trips are
 * exact. Boundary chunks are written every `boundaryIntervalMs` of wall time
 * or `boundaryEveryChunks` chunks, whichever comes first. `close()` writes a
 * StreamFooter per stream (first/last timestamp, sample count, clock offsets).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { logger } from '../../src/log.ts';
import { BOUNDARY_UUID, FORMAT_BYTES, TAG, type XdfData } from './reader.ts';
import { buildStreamInfoXml, escapeXml, numText, parseStreamInfo, type StreamInfoFields, type XdfChannelFormat, type XdfStreamInfo } from './xml.ts';

const log = logger('xdf-writer');
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

export interface XdfWriterOptions {
  /** How often buffered data goes to disk (ms, default 250). */
  flushIntervalMs?: number;
  /** Wall time between boundary chunks (ms, default 10 000). */
  boundaryIntervalMs?: number;
  /** Also write a boundary chunk after this many chunks (default 1000). */
  boundaryEveryChunks?: number;
  /** fsync the file every this many ms (default 0 = never; the OS page cache already survives a process kill). */
  fsyncIntervalMs?: number;
  /** Extra children of the file header's <info> (besides version and datetime). */
  headerFields?: Record<string, string>;
}

/** A stream to add: either the full LSL info XML, or the fields to build one from. */
export type XdfStreamSpec =
  | { xml: string }
  | { info: StreamInfoFields };

export interface XdfWriterStats {
  bytesWritten: number;
  /** Bytes encoded but not yet written to the file. */
  bytesPending: number;
  /** Chunks encoded so far (header, samples, clock offsets, boundaries, footers). */
  chunks: number;
  samplesAppended: number;
  writeErrors: number;
}

interface WStream {
  id: number;
  info: XdfStreamInfo;
  tdiff: number;
  /** Timestamp of the last appended sample (NaN before the first). */
  last: number;
  first: number;
  count: number;
  /** Encoded samples not yet sealed into a chunk. */
  parts: Buffer[];
  partBytes: number;
  partSamples: number;
  offsets: { time: number; value: number }[];
}

const TYPED: Record<Exclude<XdfChannelFormat, 'string'>, string> = {
  float32: 'Float32Array',
  double64: 'Float64Array',
  int8: 'Int8Array',
  int16: 'Int16Array',
  int32: 'Int32Array',
  int64: 'BigInt64Array',
};

function lengthBytes(n: number): 1 | 4 | 8 {
  return n <= 0xff ? 1 : n <= 0xffffffff ? 4 : 8;
}

function writeVar(b: Buffer, p: number, n: number): number {
  const w = lengthBytes(n);
  b[p] = w;
  if (w === 1) b[p + 1] = n;
  else if (w === 4) b.writeUInt32LE(n, p + 1);
  else b.writeBigUInt64LE(BigInt(n), p + 1);
  return p + 1 + w;
}

/** A whole chunk: [len size][len][tag][content]. */
function chunk(tag: number, content: Buffer[]): Buffer[] {
  let n = 2;
  for (const c of content) n += c.length;
  const head = Buffer.allocUnsafe(1 + 8 + 2);
  let p = writeVar(head, 0, n);
  head.writeUInt16LE(tag, p);
  p += 2;
  return [head.subarray(0, p), ...content];
}

function u32(v: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(v, 0);
  return b;
}

export class XdfWriter {
  readonly path: string;
  private fh: FileHandle;
  private opts: Required<Omit<XdfWriterOptions, 'headerFields'>>;
  private streams = new Map<number, WStream>();
  private nextId = 1;
  /** Sealed chunks (byte pieces) waiting for the disk. */
  private queue: Buffer[] = [];
  private queueBytes = 0;
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout;
  private lastBoundary = Date.now();
  private chunksSinceBoundary = 0;
  private lastFsync = Date.now();
  private closed = false;
  private failure: Error | undefined;
  private st: XdfWriterStats = { bytesWritten: 0, bytesPending: 0, chunks: 0, samplesAppended: 0, writeErrors: 0 };

  private constructor(path: string, fh: FileHandle, opts: XdfWriterOptions) {
    this.path = path;
    this.fh = fh;
    this.opts = {
      flushIntervalMs: opts.flushIntervalMs ?? 250,
      boundaryIntervalMs: opts.boundaryIntervalMs ?? 10_000,
      boundaryEveryChunks: opts.boundaryEveryChunks ?? 1000,
      fsyncIntervalMs: opts.fsyncIntervalMs ?? 0,
    };
    this.timer = setInterval(() => this.flush(), this.opts.flushIntervalMs);
    this.timer.unref();
  }

  /** Create (truncate) `path` and write the magic and the file header. */
  static async open(path: string, opts: XdfWriterOptions = {}): Promise<XdfWriter> {
    const fh = await open(path, 'w');
    const w = new XdfWriter(path, fh, opts);
    let xml = '<?xml version="1.0"?>\n<info>\n\t<version>1.0</version>\n';
    xml += `\t<datetime>${new Date().toISOString()}</datetime>\n`;
    for (const [k, v] of Object.entries(opts.headerFields ?? {})) xml += `\t<${k}>${escapeXml(v)}</${k}>\n`;
    xml += '</info>\n';
    w.push([Buffer.from('XDF:', 'latin1')]);
    w.push(chunk(TAG.FileHeader, [Buffer.from(xml, 'utf8')]));
    await w.flush();
    return w;
  }

  /** Add a stream; returns its XDF stream id. The header chunk is queued at once. */
  addStream(spec: XdfStreamSpec): number {
    this.assertOpen();
    const xml = 'xml' in spec ? spec.xml : buildStreamInfoXml(spec.info);
    const info = parseStreamInfo(xml); // validates, and gives the srate exactly as the reader will see it
    const id = this.nextId++;
    this.streams.set(id, {
      id,
      info,
      tdiff: info.nominal_srate > 0 ? 1 / info.nominal_srate : 0,
      last: Number.NaN,
      first: Number.NaN,
      count: 0,
      parts: [],
      partBytes: 0,
      partSamples: 0,
      offsets: [],
    });
    this.pushChunk(TAG.StreamHeader, [u32(id), Buffer.from(xml, 'utf8')]);
    return id;
  }

  /** Stream info as parsed from its header. */
  streamInfo(id: number): XdfStreamInfo {
    return this.stream(id).info;
  }

  /**
   * Buffer samples (samples × channels, row-major) with one timestamp each.
   * Synchronous, no I/O. Throws on a type or shape that does not match the stream.
   */
  appendSamples(id: number, data: XdfData | number[], timestamps: Float64Array | number[], nChannels?: number): void {
    this.assertOpen();
    const s = this.stream(id);
    const nch = nChannels ?? s.info.channel_count;
    const fmt = s.info.channel_format;
    if (nch !== s.info.channel_count) throw new Error(`stream ${id}: ${nch} channels given, header says ${s.info.channel_count}`);
    const n = timestamps.length;
    if (data.length !== n * nch) throw new Error(`stream ${id}: ${data.length} values for ${n} samples × ${nch} channels`);
    if (n === 0) return;
    const explicit = new Uint8Array(n);
    let prev = s.last;
    for (let k = 0; k < n; k++) {
      const t = timestamps[k]!;
      explicit[k] = s.tdiff > 0 && !Number.isNaN(prev) && t === prev + s.tdiff ? 0 : 1;
      prev = t;
    }
    let buf: Buffer;
    if (fmt === 'string') {
      if (!Array.isArray(data) || (n * nch > 0 && typeof data[0] !== 'string')) throw new Error(`stream ${id}: string stream needs string[] data`);
      const enc = (data as string[]).map((v) => Buffer.from(String(v), 'utf8'));
      let size = 0;
      for (let k = 0; k < n; k++) size += explicit[k] ? 9 : 1;
      for (const e of enc) size += 1 + lengthBytes(e.length) + e.length;
      buf = Buffer.allocUnsafe(size);
      let p = 0;
      for (let k = 0; k < n; k++) {
        p = this.putTs(buf, p, explicit[k]!, timestamps[k]!);
        for (let j = 0; j < nch; j++) {
          const e = enc[k * nch + j]!;
          p = writeVar(buf, p, e.length);
          e.copy(buf, p);
          p += e.length;
        }
      }
    } else {
      const want = TYPED[fmt];
      let typed: Exclude<XdfData, string[]>;
      if (Array.isArray(data)) {
        // Plain number arrays are accepted and converted to the stream's format.
        typed = fmt === 'int64' ? BigInt64Array.from(data as number[], (v) => BigInt(v)) : new (globalThis as unknown as Record<string, new (d: number[]) => Exclude<XdfData, string[]>>)[want]!(data as number[]);
      } else {
        if (data.constructor.name !== want) throw new Error(`stream ${id}: ${fmt} stream needs ${want} data, got ${data.constructor.name}`);
        typed = data;
      }
      const width = FORMAT_BYTES[fmt];
      const row = width * nch;
      let size = n * row;
      for (let k = 0; k < n; k++) size += explicit[k] ? 9 : 1;
      buf = Buffer.allocUnsafe(size);
      let src = Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
      if (!LITTLE_ENDIAN_HOST && width > 1) {
        src = Buffer.from(src);
        for (let q = 0; q < src.length; q += width) src.subarray(q, q + width).reverse();
      }
      let p = 0;
      for (let k = 0; k < n; k++) {
        p = this.putTs(buf, p, explicit[k]!, timestamps[k]!);
        src.copy(buf, p, k * row, (k + 1) * row);
        p += row;
      }
    }
    if (Number.isNaN(s.first)) s.first = timestamps[0]!;
    s.last = timestamps[n - 1]!;
    s.count += n;
    s.parts.push(buf);
    s.partBytes += buf.length;
    s.partSamples += n;
    this.st.samplesAppended += n;
    // Keep single chunks of reasonable size.
    if (s.partBytes > 8 << 20) this.seal(s);
  }

  /** Buffer one clock offset measurement (collection time on the sender clock, offset to add). */
  appendClockOffset(id: number, collectionTime: number, offset: number): void {
    this.assertOpen();
    const s = this.stream(id);
    this.seal(s); // keep file order: samples appended before this offset come first
    const b = Buffer.allocUnsafe(20);
    b.writeUInt32LE(id, 0);
    b.writeDoubleLE(collectionTime, 4);
    b.writeDoubleLE(offset, 12);
    this.pushChunk(TAG.ClockOffset, [b]);
    s.offsets.push({ time: collectionTime, value: offset });
  }

  /** Write everything buffered so far; resolves when it is in the file (page cache). */
  async flush(): Promise<void> {
    if (this.failure) return;
    for (const s of this.streams.values()) this.seal(s);
    const now = Date.now();
    if (
      !this.closed &&
      this.streams.size > 0 &&
      (now - this.lastBoundary >= this.opts.boundaryIntervalMs || this.chunksSinceBoundary >= this.opts.boundaryEveryChunks)
    ) {
      this.pushBoundary();
    }
    await this.drain();
    if (this.opts.fsyncIntervalMs > 0 && now - this.lastFsync >= this.opts.fsyncIntervalMs) {
      this.lastFsync = now;
      await this.fh.sync().catch((err: Error) => log.warn({ file: this.path, err: err.message }, 'fsync failed'));
    }
  }

  /** Write a boundary chunk now (besides the periodic ones). */
  boundary(): void {
    this.assertOpen();
    for (const s of this.streams.values()) this.seal(s);
    this.pushBoundary();
  }

  /** The write error that stopped this writer, if one did (appends then throw it). */
  get failed(): Error | undefined {
    return this.failure;
  }

  stats(): XdfWriterStats {
    let pending = this.queueBytes;
    for (const s of this.streams.values()) pending += s.partBytes;
    return { ...this.st, bytesPending: pending };
  }

  /** Flush, write one footer per stream, close the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    for (const s of this.streams.values()) this.seal(s);
    for (const s of this.streams.values()) {
      let xml = '<?xml version="1.0"?>\n<info>\n\t<writer>neurox xdf writer</writer>\n';
      xml += `\t<first_timestamp>${s.count > 0 ? numText(s.first) : '0'}</first_timestamp>\n`;
      xml += `\t<last_timestamp>${s.count > 0 ? numText(s.last) : '0'}</last_timestamp>\n`;
      xml += `\t<sample_count>${s.count}</sample_count>\n\t<clock_offsets>\n`;
      for (const o of s.offsets) xml += `\t\t<offset>\n\t\t\t<time>${numText(o.time)}</time>\n\t\t\t<value>${numText(o.value)}</value>\n\t\t</offset>\n`;
      xml += '\t</clock_offsets>\n</info>\n';
      this.pushChunk(TAG.StreamFooter, [u32(s.id), Buffer.from(xml, 'utf8')]);
    }
    this.closed = true;
    await this.drain();
    await this.fh.close();
    if (this.failure) throw this.failure;
  }

  private stream(id: number): WStream {
    const s = this.streams.get(id);
    if (!s) throw new Error(`unknown XDF stream id ${id}`);
    return s;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`XDF writer for ${this.path} is closed`);
    if (this.failure) throw this.failure;
  }

  private putTs(b: Buffer, p: number, explicit: number, t: number): number {
    if (!explicit) {
      b[p] = 0;
      return p + 1;
    }
    b[p] = 8;
    b.writeDoubleLE(t, p + 1);
    return p + 9;
  }

  /** Turn a stream's buffered samples into one Samples chunk on the queue. */
  private seal(s: WStream): void {
    if (s.partSamples === 0) return;
    const head = Buffer.allocUnsafe(4 + 9);
    head.writeUInt32LE(s.id, 0);
    const p = writeVar(head, 4, s.partSamples);
    this.pushChunk(TAG.Samples, [head.subarray(0, p), ...s.parts]);
    s.parts = [];
    s.partBytes = 0;
    s.partSamples = 0;
  }

  private pushBoundary(): void {
    this.push(chunk(TAG.Boundary, [BOUNDARY_UUID]));
    this.st.chunks++;
    this.lastBoundary = Date.now();
    this.chunksSinceBoundary = 0;
  }

  private pushChunk(tag: number, content: Buffer[]): void {
    this.push(chunk(tag, content));
    this.st.chunks++;
    this.chunksSinceBoundary++;
    if (this.chunksSinceBoundary >= this.opts.boundaryEveryChunks && !this.closed) this.pushBoundary();
  }

  private push(pieces: Buffer[]): void {
    for (const b of pieces) {
      this.queue.push(b);
      this.queueBytes += b.length;
    }
  }

  /** Write the queue; one write in flight at a time, in order. */
  private drain(): Promise<void> {
    const run = async (): Promise<void> => {
      while (this.queue.length > 0 && !this.failure) {
        const pieces = this.queue;
        this.queue = [];
        this.queueBytes = 0;
        const data = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
        try {
          let off = 0;
          while (off < data.length) {
            const { bytesWritten } = await this.fh.write(data, off, data.length - off);
            off += bytesWritten;
          }
          this.st.bytesWritten += data.length;
        } catch (err) {
          this.st.writeErrors++;
          this.failure = new Error(`XDF write to ${this.path} failed: ${(err as Error).message}`);
          log.error({ file: this.path, err: (err as Error).message }, 'XDF write failed; recording stopped');
        }
      }
    };
    const prev = this.writing ?? Promise.resolve();
    const next = prev.then(run);
    this.writing = next;
    return next;
  }
}
