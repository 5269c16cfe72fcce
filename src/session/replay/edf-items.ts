/**
 * EDF/BDF turned into the acquired chunks a live inlet would have produced, so a
 * clinical export replays through the same Pipeline as an XDF recording.
 */
import { basename } from 'node:path';
import { buildStreamInfoXml } from '../../../adapters/xdf/index.ts';
import { readEdf, signalTimes, type EdfRecording } from '../../../adapters/edf/index.ts';
import { StreamMonitor } from '../../acquire/continuity.ts';
import type { ChannelInfo, StreamId, StreamMeta } from '../../types.ts';
import { Heap, type Keyed } from './merge.ts';
import { replayStreamId, type ReplayItem, type ReplaySourceOptions } from './source.ts';

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
    const edfChannels: ChannelInfo[] = sigs.map((s) => ({ label: s.label, type: 'EEG', unit: s.physicalDimension || undefined }));
    const xml = buildStreamInfoXml({
      name, type: 'EEG', channel_count: sigs.length, nominal_srate: srate, channel_format: 'float32', source_id: `${base}#${gi}`,
      channels: edfChannels.map((c) => ({ label: c.label, type: c.type, unit: c.unit })),
    });
    const read: StreamMeta = { name, type: 'EEG', channelCount: sigs.length, srate, format: 'float32', sourceId: `${base}#${gi++}`, uid: '', hostname: '', sessionId: '', createdAt: 0, channels: edfChannels, xml };
    const meta = opts.mapStream ? opts.mapStream(read) : read;
    const channels = meta.channels;
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
