/**
 * Recorder: XDF round trip of a live session on the simulator (real LSL outlets and
 * inlets): every sample that entered the inlets is in the file with its exact
 * timestamp, markers and clock offsets too, and no gap unless a gap event explains
 * it. Plus native formats (double64, int16, multi-channel strings), re-opened
 * streams and the neurox streams, without LSL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readXdf } from '../../adapters/xdf/index.ts';
import { startSimulator } from '../../devices/simulate.ts';
import { startFromOptions } from '../../src/cli/run.ts';
import { SessionRecorder, NEUROX_STREAMS, defaultRecordingPath } from '../../src/session/record.ts';
import { replayItems, replayStreamId } from '../../src/session/replay/index.ts';
import { streamIdOf } from '../../adapters/lsl/source.ts';
import type { Chunk, GapEvent, Intent, StreamMeta } from '../../src/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'neurox-rec-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function concatF32(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.length);
  return out;
}
function concatF64(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.length);
  return out;
}

test('live session on the simulator: the XDF holds every acquired sample, marker and clock offset exactly', { timeout: 60_000 }, async (t) => {
  const tag = `rt-${process.pid}`;
  const sim = await startSimulator({ profile: 'eeg64-160', paradigm: 'mi', seed: 5, name: tag, sourceId: `${tag}-src`, generator: { schedule: { startDelaySec: 0.5, restSec: 0.5, cueSec: 1 } } });
  const file = join(dir, 'live.xdf');
  const seen: Chunk[] = [];
  const intents: Intent[] = [];
  try {
    // No decoder: the session only records (it would calibrate live from markers).
    const s = await startFromOptions({ name: tag, port: '0', record: file });
    s.onRawChunk((c) => seen.push(c));
    s.onIntent((i) => intents.push(i));
    await new Promise((r) => setTimeout(r, 10_000));
    await s.stop();
  } finally {
    await sim.stop();
  }
  const f = await readXdf(file);
  assert.deepEqual(f.warnings, []);
  const opened = seen.filter((c): c is Extract<Chunk, { kind: 'stream' }> => c.kind === 'stream');
  assert.ok(opened.length >= 2, 'signal and marker streams opened');
  for (const o of opened) {
    const xs = f.streams.find((s) => s.headerXml === o.meta.xml);
    assert.ok(xs, `stream ${o.stream} has a StreamHeader with the full LSL XML`);
    assert.equal(replayStreamId({ name: xs.info.name, sourceId: xs.info.source_id, uid: xs.info.uid ?? '' }), o.stream);
    const sig = seen.filter((c) => c.kind === 'signal' && c.stream === o.stream) as Extract<Chunk, { kind: 'signal' }>[];
    const mk = seen.filter((c) => c.kind === 'marker' && c.stream === o.stream) as Extract<Chunk, { kind: 'marker' }>[];
    const clk = seen.filter((c) => c.kind === 'clock' && c.stream === o.stream) as Extract<Chunk, { kind: 'clock' }>[];
    if (o.meta.format === 'string') {
      assert.deepEqual(xs.data, mk.flatMap((m) => m.markers));
      assert.deepEqual(xs.timestamps, concatF64(mk.map((m) => m.timestamps)));
      t.diagnostic(`${o.stream}: ${mk.reduce((n, m) => n + m.markers.length, 0)} markers`);
    } else {
      const data = concatF32(sig.map((c) => c.data));
      const ts = concatF64(sig.map((c) => c.timestamps));
      assert.ok(ts.length > 1000, `${ts.length} samples`);
      assert.equal(xs.nSamples, ts.length, 'every sample that entered the inlet');
      assert.deepEqual(xs.timestamps, ts, 'timestamps bit-exact');
      assert.deepEqual(xs.data, data, 'samples bit-exact');
      assert.equal(xs.footer?.sample_count, ts.length);
      // No gap unless a gap event explains it.
      const gaps = seen.filter((c): c is GapEvent => c.kind === 'gap' && c.stream === o.stream);
      for (let i = 1; i < ts.length; i++) {
        if (ts[i]! - ts[i - 1]! > 1.5 / o.meta.srate) assert.ok(gaps.some((g) => Math.abs(g.tStart - (ts[i - 1]! + 1 / o.meta.srate)) < 1e-9), `unexplained gap at ${ts[i - 1]}`);
      }
      t.diagnostic(`${o.stream}: ${ts.length} samples, ${gaps.length} gaps, ${clk.length} clock offsets`);
    }
    assert.deepEqual([...xs.clockTimes], clk.map((c) => c.collectedAt));
    assert.deepEqual([...xs.clockValues], clk.map((c) => c.offset));
  }
  const own = f.streams.filter((s) => s.info.type.startsWith('neurox.')).map((s) => s.info.name).sort();
  assert.deepEqual(own, ['neurox-events', 'neurox-gaps', 'neurox-intents']);
  const ev = f.streams.find((s) => s.info.name === 'neurox-events')!;
  assert.deepEqual((ev.data as string[]).map((x) => JSON.parse(x).type), ['session-start', 'session-stop']);
  assert.equal(f.header.neurox_hop, '0.08');
});

test('recorder: native formats, multi-channel markers, re-opened streams, gaps and intents; replay gives the same chunks back', async () => {
  const file = join(dir, 'formats.xdf');
  const r = await SessionRecorder.open(file);
  const meta = (name: string, format: StreamMeta['format'], C: number, srate: number): StreamMeta => {
    const chans = Array.from({ length: C }, (_, i) => `<channel><label>c${i}</label><type>EEG</type></channel>`).join('');
    return {
      name, type: 'EEG', channelCount: C, srate, format, sourceId: `${name}-src`, uid: `uid-${name}`, hostname: 'h', sessionId: '', createdAt: 1,
      channels: Array.from({ length: C }, (_, i) => ({ label: `c${i}`, type: 'EEG' })),
      xml: `<?xml version="1.0"?><info><name>${name}</name><type>EEG</type><channel_count>${C}</channel_count><nominal_srate>${srate}</nominal_srate><channel_format>${format}</channel_format><source_id>${name}-src</source_id><uid>uid-${name}</uid><desc><channels>${chans}</channels></desc></info>`,
    };
  };
  const d = meta('dbl', 'double64', 2, 100);
  const i16 = meta('i16', 'int16', 3, 50);
  const mk = meta('mk', 'string', 2, 0);
  const id = (m: StreamMeta) => streamIdOf(m);
  const chunks: Chunk[] = [
    { kind: 'stream', stream: id(d), meta: d },
    { kind: 'stream', stream: id(i16), meta: i16 },
    { kind: 'stream', stream: id(mk), meta: mk },
    { kind: 'clock', stream: id(d), collectedAt: 10, offset: 0.001 },
  ];
  const dv = Float64Array.from({ length: 40 }, (_, k) => Math.PI * k + 1e-12 * k);
  const dts = Float64Array.from({ length: 20 }, (_, k) => 10 + k / 100);
  chunks.push({ kind: 'signal', stream: id(d), data: Float32Array.from(dv), raw: dv, timestamps: dts, channels: d.channels, srate: 100 });
  const iv = Int16Array.from({ length: 30 }, (_, k) => (k * 1234) % 32767 - 16000);
  const its = Float64Array.from({ length: 10 }, (_, k) => 10 + k / 50);
  chunks.push({ kind: 'signal', stream: id(i16), data: Float32Array.from(iv), raw: iv, timestamps: its, channels: i16.channels, srate: 50 });
  chunks.push({ kind: 'marker', stream: id(mk), markers: ['a', 'c'], values: ['a', 'b', 'c', 'd'], timestamps: new Float64Array([10.05, 10.1]) });
  // The double stream is lost and re-opened: same XDF stream; a gap of 5 samples.
  chunks.push({ kind: 'stream', stream: id(d), meta: d });
  const gap: GapEvent = { kind: 'gap', stream: id(d), tStart: 10.2, tEnd: 10.24, missingSamples: 5, reason: 'stream-lost' };
  chunks.push(gap);
  const dts2 = Float64Array.from({ length: 5 }, (_, k) => 10.25 + k / 100);
  const dv2 = Float64Array.from({ length: 10 }, (_, k) => -k / 3);
  chunks.push({ kind: 'signal', stream: id(d), data: Float32Array.from(dv2), raw: dv2, timestamps: dts2, channels: d.channels, srate: 100 });
  for (const c of chunks) r.write(c);
  const intent: Intent = { seq: 0, label: 'left', probs: { left: 0.7, right: 0.3 }, confidence: 0.7, tFrame: 10.08, tEmit: 10.09, latencyMs: 1, model: 'm', abstained: false };
  r.intent(intent);
  // Unknown stream: dropped, never thrown.
  r.write({ kind: 'clock', stream: 'nope', collectedAt: 1, offset: 0 });
  await r.close();
  assert.equal(r.stats().dropped, 1);

  const f = await readXdf(file);
  const S = (n: string) => f.streams.find((s) => s.info.name === n)!;
  assert.equal(f.streams.length, 6, 'the re-opened stream kept its XDF stream');
  assert.ok(S('dbl').data instanceof Float64Array);
  assert.deepEqual(S('dbl').data, Float64Array.from([...dv, ...dv2]));
  assert.ok(S('i16').data instanceof Int16Array);
  assert.deepEqual(S('i16').data, iv);
  assert.deepEqual(S('mk').data, ['a', 'b', 'c', 'd']);
  assert.deepEqual(JSON.parse((S(NEUROX_STREAMS.gaps.name).data as string[])[0]!), gap);
  assert.equal(S(NEUROX_STREAMS.gaps.name).timestamps[0], 10.2);
  assert.deepEqual(JSON.parse((S(NEUROX_STREAMS.intents.name).data as string[])[0]!), intent);
  assert.equal(S(NEUROX_STREAMS.intents.name).timestamps[0], 10.09);

  // Replay returns the acquired chunks: the first clock offset before the samples, raw arrays, the gap re-detected.
  const back: Chunk[] = [];
  for await (const it of replayItems(file)) back.push(it.chunk);
  const kinds = back.filter((c) => c.stream === id(d)).map((c) => c.kind);
  assert.deepEqual(kinds.slice(0, 2), ['stream', 'clock']);
  const sigs = back.filter((c) => c.kind === 'signal' && c.stream === id(d)) as Extract<Chunk, { kind: 'signal' }>[];
  assert.deepEqual(Float64Array.from(sigs.flatMap((c) => [...(c.raw as Float64Array)])), Float64Array.from([...dv, ...dv2]));
  const g = back.filter((c): c is GapEvent => c.kind === 'gap');
  assert.equal(g.length, 1);
  assert.equal(g[0]!.missingSamples, 5);
  assert.ok(Math.abs(g[0]!.tStart - 10.2) < 1e-9);
  const m = back.find((c) => c.kind === 'marker') as Extract<Chunk, { kind: 'marker' }>;
  assert.deepEqual(m.values, ['a', 'b']);
  assert.deepEqual(m.markers, ['a']);
});

test('default recording path is recordings/YYYYmmdd-HHMMSS.xdf', () => {
  assert.equal(defaultRecordingPath('recordings', new Date(2024, 0, 2, 3, 4, 5)), 'recordings/20240102-030405.xdf');
});
