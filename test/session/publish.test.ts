/**
 * `neurox replay --publish`: a recording's streams come back as real LSL outlets
 * with their original timing (like MNE-LSL's Player): values exact, timestamp
 * spacing preserved (shifted by one constant onto the current clock), real-time pace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XdfWriter } from '../../adapters/xdf/index.ts';
import { lslSource, localClock } from '../../adapters/lsl/index.ts';

const bin = fileURLToPath(new URL('../../bin/neurox.mjs', import.meta.url));

test('replay --publish re-publishes a recording over LSL with its original timing', { timeout: 60000 }, async (t) => {
  const name = `published-${process.pid}`;
  const file = join(mkdtempSync(join(tmpdir(), 'neurox-pub-')), 'rec.xdf');
  const srate = 100;
  const N = srate * 20;
  const ts = Float64Array.from({ length: N }, (_, i) => 500 + i / srate + (i % 5) * 1e-4); // a little jitter
  const data = Float32Array.from({ length: N * 3 }, (_, k) => (k % 3 === 0 ? Math.floor(k / 3) : (k % 3) * 0.5));
  const w = await XdfWriter.open(file);
  const id = w.addStream({ info: { name, type: 'EEG', channel_count: 3, nominal_srate: srate, channel_format: 'float32', source_id: `${name}-src`, channels: [{ label: 'IDX' }, { label: 'A' }, { label: 'B' }] } });
  w.appendSamples(id, data, ts, 3);
  await w.close();

  const proc = spawn(process.execPath, [bin, 'replay', file, '--publish', '--quiet'], { stdio: 'ignore' });
  const idx: number[] = [];
  const stamps: number[] = [];
  const arrivals: number[] = [];
  const sub = lslSource({ prop: 'name', value: name }, { resolveTimeout: 20 }).subscribe((c) => {
    if (c.kind !== 'signal') return;
    for (let i = 0; i < c.timestamps.length; i++) (idx.push(c.data[i * 3]!), stamps.push(c.timestamps[i]!), arrivals.push(localClock()));
    assert.equal(c.data[1], 0.5);
    assert.equal(c.channels[0]!.label, 'IDX');
  });
  try {
    const deadline = Date.now() + 30000;
    while (idx.length < 400 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(idx.length >= 400, `received ${idx.length} samples`);
    for (let i = 1; i < idx.length; i++) assert.equal(idx[i], idx[i - 1]! + 1, 'consecutive samples');
    // Original spacing, shifted by a constant.
    const shift = stamps[0]! - ts[idx[0]!]!;
    for (let i = 0; i < idx.length; i++) assert.ok(Math.abs(stamps[i]! - ts[idx[i]!]! - shift) < 1e-6, `timestamp ${i}`);
    assert.ok(Math.abs(stamps[0]! - arrivals[0]!) < 1, 'shifted onto the current clock');
    // Real-time pace: 300 samples at 100 Hz take about 3 s (after the first second,
    // whose first chunk may hold what was buffered before the inlet connected).
    const pace = (arrivals[399]! - arrivals[100]!) / (stamps[399]! - stamps[100]!);
    t.diagnostic(`received ${idx.length} samples from index ${idx[0]}, pace ${pace.toFixed(3)} × real time`);
    assert.ok(pace > 0.8 && pace < 1.25, `pace ${pace}`);
  } finally {
    sub.unsubscribe();
    proc.kill('SIGINT');
  }
});
