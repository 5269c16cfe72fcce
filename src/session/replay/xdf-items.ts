/**
 * XDF (from the recorder or LabRecorder) turned back into the acquired chunks the
 * live path produced: StreamOpened, ClockOffset, SignalChunk (raw timestamps,
 * native `raw` arrays), MarkerChunk, and GapEvent from the same StreamMonitor.
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
import { readXdfChunks, type XdfChunk, type XdfStreamInfo, type XmlElement } from '../../../adapters/xdf/index.ts';
import { StreamMonitor } from '../../acquire/continuity.ts';
import { logger } from '../../log.ts';
import type { ChannelInfo, Chunk, Intent, SignalChunk, StreamId, StreamMeta } from '../../types.ts';
import { channelFrom, checkedChannels } from '../../util/channels.ts';
import { NEUROX_STREAMS, NEUROX_TYPE_PREFIX } from '../record.ts';
import { Heap, type Keyed } from './merge.ts';
import { replayStreamId, type ReplayItem, type ReplaySourceOptions } from './source.ts';

const log = logger('replay');

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
        const read = metaOf(x.info, x.xml);
        const meta = opts.mapStream && !x.info.type.startsWith(NEUROX_TYPE_PREFIX) ? opts.mapStream(read) : read;
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
