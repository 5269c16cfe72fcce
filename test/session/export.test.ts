/** `neurox export`: an XDF session becomes an EDF+ file our EDF reader (and clinical viewers) open. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XdfWriter } from '../../adapters/xdf/index.ts';
import { readEdf } from '../../adapters/edf/index.ts';

const bin = fileURLToPath(new URL('../../bin/neurox.mjs', import.meta.url));

test('XDF session → EDF+: signals, units and markers as annotations at their onsets', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'neurox-export-'));
  const xdf = join(dir, 's.xdf');
  const edf = join(dir, 's.edf');
  const w = await XdfWriter.open(xdf);
  const eeg = w.addStream({ info: { name: 'eeg', type: 'EEG', channel_count: 2, nominal_srate: 100, channel_format: 'float32', source_id: 'e', channels: [{ label: 'C3', unit: 'uV' }, { label: 'C4', unit: 'uV' }] } });
  const mk = w.addStream({ info: { name: 'cues', type: 'Markers', channel_count: 1, nominal_srate: 0, channel_format: 'string', source_id: 'm' } });
  const N = 500;
  const ts = Float64Array.from({ length: N }, (_, i) => 1000 + i / 100);
  const data = Float32Array.from({ length: N * 2 }, (_, k) => (k % 2 ? -1 : 1) * 50 * Math.sin((2 * Math.PI * 10 * Math.floor(k / 2)) / 100));
  w.appendSamples(eeg, data, ts, 2);
  w.appendSamples(mk, ['mi:left', 'mi:right'], new Float64Array([1001.5, 1003.25]), 1);
  w.appendClockOffset(eeg, 1000, 0);
  w.appendClockOffset(mk, 1000, 0);
  await w.close();

  const r = spawnSync(process.execPath, [bin, 'export', xdf, '--edf', edf], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /2 signals, 2 annotations, 5\.0 s/);
  const e = readEdf(edf);
  const sig = e.signals.filter((s) => s.label !== 'EDF Annotations');
  assert.deepEqual(sig.map((s) => [s.label, s.srate, s.physicalDimension]), [['C3', 100, 'uV'], ['C4', 100, 'uV']]);
  const step = 100 / 65535; // half a quantisation step of a ±50 µV range is well below this
  for (let i = 0; i < N; i++) {
    assert.ok(Math.abs(sig[0]!.samples[i]! - data[i * 2]!) <= step, `C3 sample ${i}`);
    assert.ok(Math.abs(sig[1]!.samples[i]! - data[i * 2 + 1]!) <= step, `C4 sample ${i}`);
  }
  assert.deepEqual(e.annotations.filter((a) => a.text.startsWith('mi:')).map((a) => [a.text, a.onset]), [['mi:left', 1.5], ['mi:right', 3.25]]);

  const bad = spawnSync(process.execPath, [bin, 'export', join(dir, 'missing.xdf'), '--edf', edf], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /missing\.xdf/);
});
