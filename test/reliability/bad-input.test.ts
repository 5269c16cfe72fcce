/**
 * Bad input never crashes the runtime: each case gives a clear error or a logged
 * warning, and acquisition goes on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, toArray, timeout } from 'rxjs';
import { createInfo, inletSource, liblsl, resolveStreams, StreamOutlet } from '../../adapters/lsl/index.ts';
import { StreamMonitor } from '../../src/acquire/continuity.ts';
import { Pipeline } from '../../src/session/pipeline.ts';
import { calibrateFromRecording } from '../../src/session/calibrate.ts';
import { generateRecording } from '../../devices/signal-model.ts';
import type { Intent, SignalChunk } from '../../src/types.ts';
import { runPeer } from '../helpers/peer.ts';

const bin = fileURLToPath(new URL('../../bin/neurox.mjs', import.meta.url));

test('unknown CLI option or command: clear message, exit code 2', () => {
  const r = spawnSync(process.execPath, [bin, 'run', '--bogus-option', '3'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /neurox run: Unknown option '--bogus-option'/);
  const c = spawnSync(process.execPath, [bin, 'frobnicate'], { encoding: 'utf8' });
  assert.equal(c.status, 2);
  assert.match(c.stderr, /unknown command "frobnicate"/);
  const n = spawnSync(process.execPath, [bin, 'run', '--hop', 'abc'], { encoding: 'utf8' });
  assert.equal(n.status, 2);
  assert.match(n.stderr, /--hop: invalid value "abc"/);
});

test('an outlet with zero channels is refused with an error naming the field', () => {
  assert.throws(
    () => new StreamOutlet({ name: 'z', type: 'EEG', channelCount: 0, srate: 100, format: 'float32', sourceId: 'z' }),
    /channelCount must be a positive integer, got 0/,
  );
});

test('a zero-channel stream from another process is skipped without a crash', async () => {
  const name = `zero-ch-${process.pid}`;
  const peer = runPeer(['outlet', name, 'float32', '0', '100', '50']);
  try {
    const [meta] = await resolveStreams({ prop: 'name', value: name }, { timeout: 10 });
    assert.equal(meta!.channelCount, 0);
    const got = await firstValueFrom(inletSource(meta!).pipe(toArray(), timeout(5000)));
    assert.deepEqual(got, [], 'nothing emitted, source completed');
  } finally {
    peer.proc.kill();
  }
});

test('an int64 stream (unsupported format) is skipped with an error, not a crash', async () => {
  const L = liblsl();
  const name = `int64-${process.pid}`;
  const info = createInfo({ name, type: 'EEG', channelCount: 2, srate: 100, format: 'int64', sourceId: name });
  const outlet = L.lsl_create_outlet(info, 0, 360);
  try {
    const [meta] = await resolveStreams({ prop: 'name', value: name }, { timeout: 10 });
    assert.equal(meta!.format, 'int64');
    const got = await firstValueFrom(inletSource(meta!).pipe(toArray(), timeout(5000)));
    assert.deepEqual(got, []);
  } finally {
    L.lsl_destroy_outlet(outlet);
    L.lsl_destroy_streaminfo(info);
  }
});

test('a stream delivering at half its nominal rate is flagged', () => {
  const m = new StreamMonitor('s', 500, 0.002, 0.1);
  // 250 samples per second arrive for 20 s, in 25-sample chunks.
  for (let k = 0; k <= 200; k++) m.arrived(25, k * 0.1, false);
  assert.ok(m.rateMismatch, 'rate mismatch reported');
  assert.equal(m.rateMismatch!.nominal, 500);
  assert.ok(Math.abs(m.rateMismatch!.measured - 250) < 5, `measured ${m.rateMismatch!.measured}`);
  const ok = new StreamMonitor('t', 500, 0.002, 0.1);
  for (let k = 0; k <= 200; k++) ok.arrived(50, k * 0.1, false);
  assert.equal(ok.rateMismatch, undefined, 'a healthy stream is not flagged');
});

test('NaN samples are repaired before DSP: intents stay finite', () => {
  const rec = generateRecording('eeg64-160', 'mi', 5, 260);
  const decoder = calibrateFromRecording(rec, { calibration: { paradigm: 'mi' } });
  const p = new Pipeline({ decoder, maxLateness: 1e9 });
  const C = rec.channels.length;
  const intents: Intent[] = [];
  for (let i = 0; i < 160 * 10; i += 16) {
    const data = rec.data.slice(i * C, (i + 16) * C);
    for (let k = 0; k < data.length; k += 7) data[k] = NaN;
    data[3] = Infinity;
    const c: SignalChunk = { kind: 'signal', stream: 'eeg', data, channels: rec.channels, srate: 160, timestamps: Float64Array.from({ length: 16 }, (_, k) => 100 + (i + k) / 160) };
    intents.push(...p.push(c, 0).intents);
  }
  assert.ok(intents.length > 50, `intents emitted: ${intents.length}`);
  for (const i of intents) for (const v of Object.values(i.probs)) assert.ok(Number.isFinite(v));
  assert.ok(p.repair.repaired('eeg') > 1000);
});

test('a decoder that does not fit the stream (missing channels) logs and carries on', () => {
  const rec = generateRecording('eeg64-160', 'mi', 5, 260);
  const decoder = calibrateFromRecording(rec, { calibration: { paradigm: 'mi' } });
  const p = new Pipeline({ decoder, maxLateness: 1e9 });
  const channels = Array.from({ length: 4 }, (_, i) => ({ label: `X${i}` }));
  let intents = 0;
  for (let i = 0; i < 500; i += 10) {
    const c: SignalChunk = { kind: 'signal', stream: 'other', data: new Float32Array(40), channels, srate: 100, timestamps: Float64Array.from({ length: 10 }, (_, k) => (i + k) / 100) };
    assert.doesNotThrow(() => (intents += p.push(c, 0).intents.length));
  }
  assert.equal(intents, 0);
});

test('no loadable liblsl: the error lists where it looked and how to point at one', () => {
  const r = spawnSync(process.execPath, [bin, 'streams', '--wait', '0.2'], { encoding: 'utf8', env: { ...process.env, NEUROX_LIBLSL: '/nonexistent/liblsl.so' } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /liblsl could not be loaded\. Tried:/);
  assert.match(r.stderr, /\/nonexistent\/liblsl\.so: no such file/);
  assert.match(r.stderr, /Set NEUROX_LIBLSL=/);
});
