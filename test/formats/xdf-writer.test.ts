/**
 * XDF writer: exact round trips through the reader for every channel format,
 * omitted timestamps, clock offsets, boundaries and footers; appends do no I/O;
 * a writer killed with SIGKILL leaves a readable file missing at most ~1 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XdfWriter, readXdf, readXdfChunks, type XdfData } from '../../adapters/xdf/index.ts';
import { ROOT } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'neurox-xdf-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Timestamps of a regular stream as a live inlet produces them: previous + 1/srate. */
function regular(t0: number, n: number, srate: number): Float64Array {
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = i === 0 ? t0 : t[i - 1]! + 1 / srate;
  return t;
}

test('round trip: every channel format, strings, omitted and explicit timestamps, clock offsets, footers', async () => {
  const path = join(dir, 'roundtrip.xdf');
  const w = await XdfWriter.open(path, { boundaryEveryChunks: 5, flushIntervalMs: 50 });
  const nch = 3;
  const specs = [
    ['float32', Float32Array, [1.5, -2.25, 3.4028234663852886e38, Number.NaN, -0, 1e-45]],
    ['double64', Float64Array, [Math.PI, -1e300, 5e-324, Number.POSITIVE_INFINITY, -0, 1 / 3]],
    ['int8', Int8Array, [-128, 127, 0, 1, -1, 42]],
    ['int16', Int16Array, [-32768, 32767, 0, 1, -1, 12345]],
    ['int32', Int32Array, [-2147483648, 2147483647, 0, 1, -1, 123456789]],
  ] as const;
  type Expect = { id: number; data: XdfData[]; ts: Float64Array[] };
  const expect: Expect[] = [];
  for (const [fmt, Ctor, vals] of specs) {
    const id = w.addStream({
      info: {
        name: `s-${fmt}`,
        type: 'EEG',
        channel_count: nch,
        nominal_srate: 250,
        channel_format: fmt,
        source_id: `src-${fmt}`,
        channels: [
          { label: 'C3', type: 'EEG', unit: 'microvolts', location: [-0.05, 0.01, 0.08] },
          { label: 'C<4>&"x"', unit: 'uV' },
          { label: 'Cz' },
        ],
      },
    });
    const e: Expect = { id, data: [], ts: [] };
    // Three appends: 300 consecutive samples (timestamps deducible, >255 → 4-byte count),
    // then a gap (explicit), then 7 more consecutive.
    const t1 = regular(1000.004, 300, 250);
    const t2 = regular(1003.5, 20, 250);
    const t3 = regular(t2[19]! + 1 / 250, 7, 250);
    for (const t of [t1, t2, t3]) {
      const d = new Ctor(t.length * nch);
      for (let i = 0; i < d.length; i++) d[i] = vals[i % vals.length]! + (fmt.startsWith('int') ? 0 : i);
      w.appendSamples(id, d, t, nch);
      e.data.push(d);
      e.ts.push(t);
    }
    w.appendClockOffset(id, 1001.25, -0.003125);
    w.appendClockOffset(id, 1006.25, -0.0031);
    expect.push(e);
  }
  // int64 with values beyond 2^53.
  const i64 = w.addStream({ info: { name: 'i64', channel_count: 2, nominal_srate: 1000, channel_format: 'int64' } });
  const d64 = BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n, 9007199254740993n, -1n, 0n, 77n]);
  const t64 = regular(5, 3, 1000);
  w.appendSamples(i64, d64, t64, 2);
  // Irregular string stream: UTF-8, empty, long (> 255 bytes → 4-byte length).
  const sid = w.addStream({ info: { name: 'markers', type: 'Markers', channel_count: 2, nominal_srate: 0, channel_format: 'string' } });
  const strs = ['left', 'ä → 仰卧 🧠', '', 'x'.repeat(300), '<xml & stuff/>', 'end'];
  const sts = new Float64Array([10.5, 10.5, 12.125]);
  w.appendSamples(sid, strs, sts, 2);
  // A stream given as raw XML with a desc the reader must keep.
  const xml =
    '<?xml version="1.0"?><info><name>raw</name><type>Audio</type><channel_count>1</channel_count>' +
    '<nominal_srate>8000</nominal_srate><channel_format>int16</channel_format><source_id>mic</source_id>' +
    '<desc><channels><channel><label>mic</label><type>AUDIO</type><unit>au</unit></channel></channels><acquisition><manufacturer>ACME</manufacturer></acquisition></desc></info>';
  const rid = w.addStream({ xml });
  const emptyId = w.addStream({ info: { name: 'never', channel_count: 4, nominal_srate: 100, channel_format: 'double64' } });
  const rts = regular(77.000125, 800, 8000);
  const rdata = Int16Array.from({ length: 800 }, (_, i) => (i * 37) % 65536 - 32768);
  // Appends are synchronous and only buffer: nothing is written before a flush.
  const before = statSync(path).size;
  w.appendSamples(rid, rdata, rts, 1);
  assert.equal(statSync(path).size, before);
  assert.ok(w.stats().bytesPending >= 800 * 3);
  await w.close();
  assert.equal(w.stats().bytesPending, 0);

  const f = await readXdf(path, { strict: true });
  assert.deepEqual(f.warnings, []);
  assert.equal(f.header.version, '1.0');
  assert.ok(f.boundaries >= 3, `boundary chunks: ${f.boundaries}`);
  for (const e of expect) {
    const s = f.streams.find((x) => x.id === e.id)!;
    const data = e.data.flatMap((d) => Array.from(d as ArrayLike<number>));
    const ts = e.ts.flatMap((t) => Array.from(t));
    assert.equal(s.nSamples, 327);
    assert.equal(s.data.constructor, e.data[0]!.constructor, `${s.info.name}: array type`);
    assert.deepEqual(Array.from(s.data as ArrayLike<number>), data, `${s.info.name}: values`);
    assert.deepEqual(Array.from(s.timestamps), ts, `${s.info.name}: timestamps bit-exact`);
    assert.deepEqual(s.info.channels, [
      { label: 'C3', type: 'EEG', unit: 'microvolts', location: [-0.05, 0.01, 0.08] },
      { label: 'C<4>&"x"', unit: 'uV' },
      { label: 'Cz' },
    ]);
    assert.equal(s.info.source_id, `src-${s.info.channel_format}`);
    assert.deepEqual(Array.from(s.clockTimes), [1001.25, 1006.25]);
    assert.deepEqual(Array.from(s.clockValues), [-0.003125, -0.0031]);
    assert.equal(s.footer!.first_timestamp, ts[0]);
    assert.equal(s.footer!.last_timestamp, ts[ts.length - 1]);
    assert.equal(s.footer!.sample_count, 327);
    assert.deepEqual(s.footer!.clock_offsets, [
      { time: 1001.25, value: -0.003125 },
      { time: 1006.25, value: -0.0031 },
    ]);
  }
  const s64 = f.streams.find((x) => x.id === i64)!;
  assert.ok(s64.data instanceof BigInt64Array);
  assert.deepEqual(Array.from(s64.data), Array.from(d64));
  assert.deepEqual(Array.from(s64.timestamps), Array.from(t64));
  const ss = f.streams.find((x) => x.id === sid)!;
  assert.deepEqual(ss.data, strs);
  assert.deepEqual(Array.from(ss.timestamps), [10.5, 10.5, 12.125]);
  const rs = f.streams.find((x) => x.id === rid)!;
  assert.equal(rs.headerXml, xml);
  assert.equal(rs.info.desc!.children[1]!.name, 'acquisition');
  assert.deepEqual(Array.from(rs.data as Int16Array), Array.from(rdata));
  assert.deepEqual(Array.from(rs.timestamps), Array.from(rts));
  const es = f.streams.find((x) => x.id === emptyId)!;
  assert.equal(es.nSamples, 0);
  assert.ok(es.data instanceof Float64Array);
  assert.deepEqual(es.footer, { first_timestamp: 0, last_timestamp: 0, sample_count: 0, clock_offsets: [], extra: { writer: 'neurox xdf writer' } });

  // Timestamps were omitted wherever deducible: per regular stream only the
  // first sample and the one after the gap are stored explicitly; all
  // irregular-stream timestamps are explicit.
  const explicit = new Map<number, number>();
  for await (const c of readXdfChunks(path)) {
    if (c.tag === 'samples') explicit.set(c.streamId, (explicit.get(c.streamId) ?? 0) + c.explicitTimestamps);
  }
  for (const e of expect) assert.equal(explicit.get(e.id), 2, `stream ${e.id} explicit timestamps`);
  assert.equal(explicit.get(i64), 1);
  assert.equal(explicit.get(rid), 1);
  assert.equal(explicit.get(sid), 3);
});

test('appendSamples rejects data that does not match the stream', async () => {
  const w = await XdfWriter.open(join(dir, 'bad-append.xdf'));
  const id = w.addStream({ info: { name: 'x', channel_count: 2, nominal_srate: 10, channel_format: 'int16' } });
  assert.throws(() => w.appendSamples(id, new Float32Array(4), new Float64Array(2), 2), /int16 stream needs Int16Array/);
  assert.throws(() => w.appendSamples(id, new Int16Array(3), new Float64Array(2), 2), /3 values for 2 samples/);
  assert.throws(() => w.appendSamples(id, new Int16Array(6), new Float64Array(2), 3), /3 channels given/);
  assert.throws(() => w.appendSamples(99, new Int16Array(2), new Float64Array(1), 2), /unknown XDF stream id 99/);
  assert.throws(() => w.addStream({ xml: '<info><channel_format>float99</channel_format></info>' }), /channel_format/);
  await w.close();
  assert.throws(() => w.appendSamples(id, new Int16Array(2), new Float64Array(1), 2), /closed/);
});

test('crash safety: a writer killed with SIGKILL leaves a readable file missing at most the last second', async (t) => {
  const path = join(dir, 'crash.xdf');
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/formats/xdf-crash-writer.ts'), path], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const t0 = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /ready (\S+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`writer exited early (${code}): ${err}`)));
  });
  await new Promise((r) => setTimeout(r, 2500));
  const killedAt = Date.now() / 1000;
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGKILL');
  await exited;

  const f = await readXdf(path); // lenient: a cut chunk would be dropped with a warning
  const eeg = f.streams.find((s) => s.info.name === 'crash-eeg')!;
  const mk = f.streams.find((s) => s.info.name === 'crash-markers')!;
  assert.ok(eeg && mk, 'both stream headers survived');
  assert.equal(eeg.footer, undefined, 'no footer: the writer never closed');
  const n = eeg.nSamples;
  assert.ok(n > 500, `samples recovered: ${n}`);
  const last = eeg.timestamps[n - 1]!;
  t.diagnostic(`${n} samples recovered, last one ${(killedAt - last).toFixed(3)} s before SIGKILL, ${f.warnings.length} warnings`);
  assert.ok(killedAt - last <= 1.0, `lost ${(killedAt - last).toFixed(3)} s before the kill`);
  // Everything that is there is intact: consecutive values, regular timestamps.
  assert.equal(eeg.timestamps[0], t0);
  const d = eeg.data as Float32Array;
  for (let k = 0; k < n; k++) {
    for (let c = 0; c < 8; c++) if (d[k * 8 + c] !== k) assert.fail(`sample ${k} channel ${c} is ${d[k * 8 + c]}`);
    if (k > 0 && Math.abs(eeg.timestamps[k]! - eeg.timestamps[k - 1]! - 0.002) > 1e-6) assert.fail(`timestamp step at ${k}`);
  }
  assert.ok(mk.nSamples >= 3);
  assert.ok(eeg.clockTimes.length >= 2);
  assert.ok(f.boundaries >= 2);
});
