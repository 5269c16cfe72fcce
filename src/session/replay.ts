/**
 * Replay: a recording (XDF from the recorder or LabRecorder, or EDF/BDF) turned back
 * into the acquired chunks the live path produced — StreamOpened, ClockOffset,
 * SignalChunk (raw timestamps, native `raw` arrays), MarkerChunk and GapEvent from
 * the same StreamMonitor — and run through the same Pipeline.
 *
 * Order. The recorder's file holds each stream's chunks in order, but streams are
 * interleaved per flush, and ClockOffset chunks are written at once while samples
 * wait for the next flush. Replay merges the streams by local time with a bounded
 * look-ahead: a block of samples is keyed by its last sample's local time
 * (timestamp + the stream's latest clock offset) and a clock offset by its
 * collection time, clock offsets first on ties. A clock measurement is therefore
 * added before every block that holds a sample collected after it, as live (the
 * inlet measures before it pulls); samples before it still get the previous offset
 * (OffsetTracker.at), so the clock stage corrects exactly as it did live. A
 * stream's first measurement goes before its first samples (live measures at open).
 */
import { basename } from 'node:path';
import { readXdfChunks, type XdfChunk, type XdfStreamInfo, type XmlElement } from '../../adapters/xdf/index.ts';
import { buildStreamInfoXml } from '../../adapters/xdf/index.ts';
import { readEdf, signalTimes, type EdfRecording } from '../../adapters/edf/index.ts';
import { StreamMonitor } from '../acquire/continuity.ts';
import type { BaselineDecoder, BaselineOptions } from '../decode/baseline.ts';
import type { FrameDecoder } from '../decode/frame-decoder.ts';
import type { CalibrationOptions } from '../decode/calibration.ts';
import { logger } from '../log.ts';
import type { ChannelInfo, Chunk, Intent, SignalChunk, StreamId, StreamMeta } from '../types.ts';
import { localClock } from '../util/clock.ts';
import type { DspOptions } from '../dsp/chain.ts';
import { channelFrom, checkedChannels } from '../util/channels.ts';
import { Pipeline } from './pipeline.ts';
import { NEUROX_STREAMS, NEUROX_TYPE_PREFIX } from './record.ts';

const log = logger('replay');

/** One item in replay order: an acquired chunk at local time `t`. */
export interface ReplayItem {
  t: number;
  chunk: Chunk;
}

export interface ReplaySourceOptions {
  /** Seconds of look-ahead when merging streams by time (default 5). */
  horizon?: number;
  /** Samples per replayed signal block, in seconds of data (default 0.02). */
  blockSeconds?: number;
  /** Read a damaged file up to the damage (with a warning) instead of failing (default false). */
  lenient?: boolean;
  /** Collects reader warnings. */
  warnings?: string[];
  /** Called with each intent found in the file's `neurox-intents` stream. */
  onRecordedIntent?: (i: Intent) => void;
  /** Called with each session event in `neurox-events`. */
  onRecordedEvent?: (e: Record<string, unknown>, t: number) => void;
  /** Called with the file header fields (XDF) before the first chunk. */
  onHeader?: (fields: Record<string, string>) => void;
}

/** The id the live acquire stage gives a stream (same rule as adapters/lsl streamIdOf). */
export function replayStreamId(m: Pick<StreamMeta, 'name' | 'sourceId' | 'uid'>): StreamId {
  return `${m.name}#${m.sourceId || m.uid.slice(0, 8)}`;
}

function childText(el: XmlElement | undefined, name: string): string | undefined {
  const c = el?.children.find((x) => x.name === name);
  if (!c) return undefined;
  const v = c.text.trim();
  return v === '' ? undefined : v;
}

/** Channels as the live inlet reads them from desc/channels (labels ch1.. when the count does not match). */
function channelsOf(info: XdfStreamInfo): ChannelInfo[] {
  const out: ChannelInfo[] = [];
  const chans = info.desc?.children.find((c) => c.name === 'channels');
  for (const ch of chans?.children ?? []) {
    if (ch.name !== 'channel') continue;
    const loc = ch.children.find((x) => x.name === 'location');
    out.push(channelFrom(out.length, (n) => childText(ch, n), loc ? (k) => childText(loc, k) : undefined));
  }
  return checkedChannels(out, info.channel_count);
}

function metaOf(info: XdfStreamInfo, xml: string): StreamMeta {
  const sessionId = /<session_id>([^<]*)<\/session_id>/.exec(xml)?.[1] ?? '';
  return {
    name: info.name,
    type: info.type,
    channelCount: info.channel_count,
    srate: info.nominal_srate,
    format: info.channel_format,
    sourceId: info.source_id,
    uid: info.uid ?? '',
    hostname: info.hostname ?? '',
    sessionId,
    createdAt: info.created_at ?? 0,
    channels: channelsOf(info),
    xml,
  };
}

/** Binary min-heap on (t, seq). */
class Heap<T extends { t: number; seq: number }> {
  private a: T[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): T | undefined {
    return this.a[0];
  }
  private less(i: number, j: number): boolean {
    const x = this.a[i]!;
    const y = this.a[j]!;
    return x.t < y.t || (x.t === y.t && x.seq < y.seq);
  }
  push(v: T): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(l, m)) m = l;
        if (r < a.length && this.less(r, m)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

interface Keyed {
  t: number;
  seq: number;
  chunk: Chunk;
}

interface RStream {
  id: StreamId;
  meta: StreamMeta;
  own: boolean;
  offset: number;
  clocks: number;
  lastKey: number;
  skip: boolean;
}

/**
 * The acquired chunks of an XDF recording in replay order (see the module comment),
 * with gaps detected by the same StreamMonitor as live. Bounded memory: `horizon`
 * seconds of look-ahead.
 */
export async function* xdfReplayItems(file: string, opts: ReplaySourceOptions = {}): AsyncGenerator<ReplayItem> {
  const horizon = opts.horizon ?? 5;
  const blockSeconds = opts.blockSeconds ?? 0.02;
  const warnings = opts.warnings ?? [];
  const byXdf = new Map<number, RStream>();
  const monitors = new Map<StreamId, StreamMonitor>();
  const heap = new Heap<Keyed>();
  let seq = 0;
  let maxKey = -Infinity;
  const add = (s: RStream, t: number, chunk: Chunk, first = false) => {
    const key = first ? -Infinity : Math.max(t, s.lastKey);
    if (!first) s.lastKey = key;
    if (Number.isFinite(key)) maxKey = Math.max(maxKey, key);
    heap.push({ t: key, seq: seq++, chunk });
  };
  const emit = function* (k: Keyed): Generator<ReplayItem> {
    const c = k.chunk;
    if (c.kind === 'signal' || c.kind === 'marker') {
      let mon = monitors.get(c.stream);
      if (!mon) {
        const sr = c.kind === 'signal' ? c.srate : 0;
        mon = new StreamMonitor(c.stream, sr, Math.max(0.5 / Math.max(sr, 1), 0.002), 0.1);
        monitors.set(c.stream, mon);
      }
      for (const g of mon.gaps(c.timestamps, false)) yield { t: k.t, chunk: g };
    }
    yield { t: k.t, chunk: c };
  };

  for await (const x of readXdfChunks(file, { strict: !opts.lenient, warnings })) {
    handle(x);
    while (heap.size && heap.peek()!.t < maxKey - horizon) yield* emit(heap.pop()!);
  }
  while (heap.size) yield* emit(heap.pop()!);

  function handle(x: XdfChunk): void {
    switch (x.tag) {
      case 'fileHeader': {
        const fields: Record<string, string> = {};
        for (const m of x.xml.matchAll(/<([A-Za-z_][\w.-]*)>([^<]*)<\/\1>/g)) fields[m[1]!] = m[2]!;
        opts.onHeader?.(fields);
        return;
      }
      case 'streamHeader': {
        const own = x.info.type.startsWith(NEUROX_TYPE_PREFIX);
        const meta = metaOf(x.info, x.xml);
        const s: RStream = { id: replayStreamId(meta), meta, own, offset: 0, clocks: 0, lastKey: -Infinity, skip: false };
        if (!own && meta.format === 'int64') {
          s.skip = true;
          log.warn({ file, stream: meta.name }, 'int64 stream is not replayed (the live path does not support it)');
        }
        if (!own && meta.channelCount < 1) s.skip = true;
        byXdf.set(x.streamId, s);
        if (!own && !s.skip) add(s, -Infinity, { kind: 'stream', stream: s.id, meta }, true);
        return;
      }
      case 'clockOffset': {
        const s = byXdf.get(x.streamId);
        if (!s || s.own || s.skip) return;
        s.offset = x.offsetValue;
        const chunk: Chunk = { kind: 'clock', stream: s.id, collectedAt: x.collectionTime, offset: x.offsetValue };
        if (s.clocks++ === 0) add(s, -Infinity, chunk, true);
        else heap.push({ t: x.collectionTime, seq: seq++, chunk });
        return;
      }
      case 'samples': {
        const s = byXdf.get(x.streamId);
        if (!s || s.skip) return;
        if (s.own) return ownSamples(s, x);
        const C = x.nChannels;
        const n = x.nSamples;
        if (Array.isArray(x.data)) {
          // Markers: one item per sample, so they interleave exactly by time.
          for (let i = 0; i < n; i++) {
            const values = x.data.slice(i * C, (i + 1) * C);
            const ts = new Float64Array([x.timestamps[i]!]);
            add(s, ts[0]! + s.offset, { kind: 'marker', stream: s.id, markers: [values[0]!], timestamps: ts, ...(C > 1 ? { values } : {}) });
          }
          return;
        }
        const data = x.data;
        const step = s.meta.srate > 0 ? Math.max(1, Math.round(s.meta.srate * blockSeconds)) : 1;
        for (let i = 0; i < n; i += step) {
          const m = Math.min(step, n - i);
          const ts = x.timestamps.slice(i, i + m);
          const part = data.subarray(i * C, (i + m) * C);
          let raw: SignalChunk['raw'];
          let f32: Float32Array;
          if (part instanceof Float32Array) f32 = part.slice();
          else if (part instanceof BigInt64Array) return; // not reached: int64 skipped above
          else {
            raw = part.slice() as SignalChunk['raw'];
            f32 = Float32Array.from(part as ArrayLike<number>);
          }
          const tLocal = ts[m - 1]! + s.offset;
          const chunk: SignalChunk = { kind: 'signal', stream: s.id, data: f32, timestamps: ts, channels: s.meta.channels, srate: s.meta.srate, arrivedAt: tLocal };
          if (raw) chunk.raw = raw;
          add(s, tLocal, chunk);
        }
        return;
      }
      default:
        return;
    }
  }

  function ownSamples(s: RStream, x: Extract<XdfChunk, { tag: 'samples' }>): void {
    if (!Array.isArray(x.data)) return;
    for (let i = 0; i < x.nSamples; i++) {
      const text = x.data[i * x.nChannels]!;
      try {
        const v = JSON.parse(text) as Record<string, unknown>;
        if (s.meta.name === NEUROX_STREAMS.intents.name) opts.onRecordedIntent?.(v as unknown as Intent);
        else if (s.meta.name === NEUROX_STREAMS.events.name) opts.onRecordedEvent?.(v, x.timestamps[i]!);
      } catch {
        warnings.push(`${file}: ${s.meta.name} sample ${i} is not JSON`);
      }
    }
  }
}

/** EDF/BDF as acquired chunks: one signal stream per sampling rate, annotations (and triggers) as markers. */
export function* edfReplayItems(file: string, opts: ReplaySourceOptions = {}): Generator<ReplayItem> {
  const edf: EdfRecording = readEdf(file, { lenient: opts.lenient });
  for (const w of edf.warnings) opts.warnings?.push(w);
  const blockSeconds = opts.blockSeconds ?? 0.02;
  const base = basename(file);
  const groups = new Map<number, typeof edf.signals>();
  for (const s of edf.signals) {
    if (s.isStatus || !(s.srate > 0)) continue;
    const g = groups.get(s.srate) ?? [];
    g.push(s);
    groups.set(s.srate, g);
  }
  const heap = new Heap<Keyed>();
  let seq = 0;
  let gi = 0;
  const monitors = new Map<StreamId, StreamMonitor>();
  for (const [srate, sigs] of groups) {
    const name = groups.size === 1 ? base : `${base}@${srate}Hz`;
    const channels: ChannelInfo[] = sigs.map((s) => ({ label: s.label, type: 'EEG', unit: s.physicalDimension || undefined }));
    const xml = buildStreamInfoXml({
      name, type: 'EEG', channel_count: sigs.length, nominal_srate: srate, channel_format: 'float32', source_id: `${base}#${gi}`,
      channels: channels.map((c) => ({ label: c.label, type: c.type, unit: c.unit })),
    });
    const meta: StreamMeta = { name, type: 'EEG', channelCount: sigs.length, srate, format: 'float32', sourceId: `${base}#${gi++}`, uid: '', hostname: '', sessionId: '', createdAt: 0, channels, xml };
    const id = replayStreamId(meta);
    heap.push({ t: -Infinity, seq: seq++, chunk: { kind: 'stream', stream: id, meta } });
    const C = sigs.length;
    const N = Math.min(...sigs.map((s) => s.samples.length));
    const times = signalTimes(sigs[0]!, edf.recordStarts);
    const step = Math.max(1, Math.round(srate * blockSeconds));
    for (let i = 0; i < N; i += step) {
      const m = Math.min(step, N - i);
      const data = new Float32Array(m * C);
      for (let k = 0; k < m; k++) for (let c = 0; c < C; c++) data[k * C + c] = sigs[c]!.samples[i + k]!;
      const ts = times.slice(i, i + m);
      heap.push({ t: ts[m - 1]!, seq: seq++, chunk: { kind: 'signal', stream: id, data, timestamps: ts, channels, srate, arrivedAt: ts[m - 1]! } });
    }
  }
  const marks = [
    ...edf.annotations.filter((a) => a.text !== '').map((a) => ({ t: a.onset, v: a.text })),
    ...edf.events.map((e) => ({ t: e.onset, v: `trigger:${e.value}` })),
  ].sort((a, b) => a.t - b.t);
  if (marks.length) {
    const name = `${base}-annotations`;
    const meta: StreamMeta = {
      name, type: 'Markers', channelCount: 1, srate: 0, format: 'string', sourceId: `${base}#annotations`, uid: '', hostname: '', sessionId: '', createdAt: 0,
      channels: [{ label: 'annotation' }],
      xml: buildStreamInfoXml({ name, type: 'Markers', channel_count: 1, nominal_srate: 0, channel_format: 'string', source_id: `${base}#annotations` }),
    };
    const id = replayStreamId(meta);
    heap.push({ t: -Infinity, seq: seq++, chunk: { kind: 'stream', stream: id, meta } });
    for (const m of marks) heap.push({ t: m.t, seq: seq++, chunk: { kind: 'marker', stream: id, markers: [m.v], timestamps: new Float64Array([m.t]) } });
  }
  while (heap.size) {
    const k = heap.pop()!;
    const c = k.chunk;
    if (c.kind === 'signal') {
      let mon = monitors.get(c.stream);
      if (!mon) monitors.set(c.stream, (mon = new StreamMonitor(c.stream, c.srate, Math.max(0.5 / c.srate, 0.002), 0.1)));
      for (const g of mon.gaps(c.timestamps, false)) yield { t: k.t, chunk: g };
    }
    yield { t: k.t, chunk: c };
  }
}

/** XDF or EDF/BDF by content (magic), not by extension. */
export async function* replayItems(file: string, opts: ReplaySourceOptions = {}): AsyncGenerator<ReplayItem> {
  const { open } = await import('node:fs/promises');
  let head = Buffer.alloc(0);
  try {
    const fh = await open(file, 'r');
    try {
      const b = Buffer.alloc(8);
      const { bytesRead } = await fh.read(b, 0, 8, 0);
      head = b.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new ReplayError(`${file}: byte offset 0: cannot open file: ${(e as Error).message}`);
  }
  const magic = head.toString('latin1');
  if (magic.startsWith('XDF:')) yield* xdfReplayItems(file, opts);
  else if (magic.startsWith('0       ') || (head[0] === 0xff && magic.slice(1, 8) === 'BIOSEMI')) yield* edfReplayItems(file, opts);
  else throw new ReplayError(`${file}: byte offset 0: not a recording neurox can replay (neither XDF "XDF:" nor EDF/BDF header; found ${JSON.stringify(magic.slice(0, 8))})`);
}

export class ReplayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayError';
  }
}

export interface ReplayOptions extends ReplaySourceOptions {
  /** Decoder to use, any FrameDecoder or a baseline (default: a baseline calibrated from the recording's cue markers, as live). */
  decoder?: BaselineDecoder | FrameDecoder;
  decoderOptions?: BaselineOptions;
  calibration?: CalibrationOptions;
  /** Frame hop / window (default: the values the recording was made with, else 0.08 / 1.0). */
  hop?: number;
  /** The dsp stage (default: the chain the recording was made with, else none). */
  dsp?: DspOptions;
  window?: number;
  abstainBelow?: number;
  /** Pace the chunks at the recording's own speed (default: as fast as possible). */
  realtime?: boolean;
  /** Real-time speed factor (default 1). */
  speed?: number;
  onIntent?: (i: Intent) => void;
  /** Every replayed acquired chunk (what a live recorder would have seen). */
  onChunk?: (c: Chunk, t: number) => void;
  /** Stop early (checked between chunks). */
  signal?: AbortSignal;
}

export interface ReplayResult {
  intents: Intent[];
  recordedIntents: Intent[];
  chunks: number;
  samples: number;
  gaps: number;
  streams: StreamMeta[];
  /** File header fields (XDF). */
  header: Record<string, string>;
  warnings: string[];
  /** Recording span (s, local clock) and wall time taken (s). */
  span: number;
  wallSeconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Run a recording through the Pipeline (clock → align → decode), returning its intents. */
export async function replayRecording(file: string, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const warnings = opts.warnings ?? [];
  const recordedIntents: Intent[] = [];
  const header: Record<string, string> = {};
  const streams: StreamMeta[] = [];
  let pipeline: Pipeline | undefined;
  const make = (): Pipeline => {
    const hop = opts.hop ?? numField(header.neurox_hop) ?? 0.08;
    const window = opts.window ?? numField(header.neurox_window) ?? 1.0;
    const abstainBelow = opts.abstainBelow ?? numField(header.neurox_abstain_below) ?? 0;
    const dsp = opts.dsp ?? (header.neurox_dsp ? (JSON.parse(header.neurox_dsp) as DspOptions) : undefined);
    const p = new Pipeline({ hop, window, abstainBelow, dsp, maxLateness: 1e9, decoder: opts.decoder, decoderOptions: opts.decoderOptions, calibration: opts.calibration });
    // Every intent, whatever the decoder (a model's arrive after its queue ran).
    p.onIntent((i) => {
      intents.push(i);
      opts.onIntent?.(i);
    });
    return p;
  };
  const intents: Intent[] = [];
  let chunks = 0;
  let samples = 0;
  let gaps = 0;
  let t0: number | undefined;
  let tLast = 0;
  const wall0 = localClock();
  const items = replayItems(file, {
    ...opts,
    warnings,
    onHeader: (h) => Object.assign(header, h),
    onRecordedIntent: (i) => recordedIntents.push(i),
  });
  for await (const { t, chunk } of items) {
    if (opts.signal?.aborted) break;
    pipeline ??= make();
    if (Number.isFinite(t)) {
      t0 ??= t;
      tLast = Math.max(tLast, t);
      if (opts.realtime) {
        const due = (t - t0) / (opts.speed ?? 1) - (localClock() - wall0);
        if (due > 0.002) await sleep(due * 1000);
      }
    }
    chunks++;
    if (chunk.kind === 'signal') samples += chunk.timestamps.length;
    if (chunk.kind === 'gap') gaps++;
    if (chunk.kind === 'stream') streams.push(chunk.meta);
    opts.onChunk?.(chunk, t);
    // Virtual "now": the local time the chunk was acquired (fast mode), the wall clock in real time.
    const now = opts.realtime ? localClock() : Number.isFinite(t) ? t : (t0 ?? 0);
    if (chunk.kind === 'signal' && opts.realtime) chunk.arrivedAt = now;
    pipeline.push(chunk, now);
    // Keep a model's queue short: wait for it now and then (results do not depend on when).
    if (chunks % 256 === 0) await pipeline.settled();
  }
  await pipeline?.settled();
  return { intents, recordedIntents, chunks, samples, gaps, streams, header, warnings, span: t0 === undefined ? 0 : tLast - t0, wallSeconds: localClock() - wall0 };
}

function numField(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const x = Number(s);
  return Number.isFinite(x) ? x : undefined;
}

export interface IntentComparison {
  replayed: number;
  recorded: number;
  /** Intents compared (same seq in both). */
  compared: number;
  labelMismatches: number;
  /** Largest |Δp| over all classes of all compared intents. */
  maxProbDiff: number;
  /** seqs present in one list only. */
  missing: number[];
  extra: number[];
  equal: boolean;
}

/**
 * Compare replayed intents with the ones recorded live (neurox-intents): same seqs,
 * same labels, probabilities within `tol` (default 1e-6, float32 rounding).
 */
export function compareIntents(replayed: Intent[], recorded: Intent[], tol = 1e-6): IntentComparison {
  const rec = new Map(recorded.map((i) => [i.seq, i]));
  const rep = new Map(replayed.map((i) => [i.seq, i]));
  let compared = 0;
  let labelMismatches = 0;
  let maxProbDiff = 0;
  const missing: number[] = [];
  const extra: number[] = [];
  for (const [seq, a] of rec) {
    const b = rep.get(seq);
    if (!b) {
      missing.push(seq);
      continue;
    }
    compared++;
    if (a.label !== b.label) labelMismatches++;
    for (const k of new Set([...Object.keys(a.probs), ...Object.keys(b.probs)])) {
      const d = Math.abs((a.probs[k] ?? Number.NaN) - (b.probs[k] ?? Number.NaN));
      if (Number.isNaN(d)) maxProbDiff = Infinity;
      else if (d > maxProbDiff) maxProbDiff = d;
    }
  }
  for (const seq of rep.keys()) if (!rec.has(seq)) extra.push(seq);
  return {
    replayed: replayed.length,
    recorded: recorded.length,
    compared,
    labelMismatches,
    maxProbDiff,
    missing,
    extra,
    equal: labelMismatches === 0 && maxProbDiff <= tol && missing.length === 0,
  };
}
