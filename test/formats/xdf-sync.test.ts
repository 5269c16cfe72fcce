/** XML parser, clock synchronisation (with a reset) and dejitter on synthetic data with known answers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml, parseStreamInfo, buildStreamInfoXml, clockSegments, applyClockSync, dejitter, robustLineFit } from '../../adapters/xdf/index.ts';

test('XML parser: entities, CDATA, comments, attributes, self-closing tags, errors with positions', () => {
  const x = parseXml(
    '<?xml version="1.0"?>\n<!-- c --><!DOCTYPE info><info a="1" b=\'x&amp;y\'><name>A &lt;&#66;&#x43;&gt; &quot;q&quot;</name>' +
      '<desc><![CDATA[<raw> & ]]></desc><empty/><v4address /></info>',
  );
  assert.equal(x.name, 'info');
  assert.deepEqual(x.attrs, { a: '1', b: 'x&y' });
  assert.equal(x.children[0]!.text, 'A <BC> "q"');
  assert.equal(x.children[1]!.text, '<raw> & ');
  assert.deepEqual(
    x.children.map((c) => c.name),
    ['name', 'desc', 'empty', 'v4address'],
  );
  assert.throws(() => parseXml('<a><b></a>'), /XML error at character 6: closing tag <\/a> does not match <b>/);
  assert.throws(() => parseXml('<a>'), /unclosed element <a>/);
  assert.throws(() => parseXml('<a>&bogus;</a>'), /unknown entity/);
  assert.throws(() => parseXml('<a></a><b/>'), /more than one root/);
});

test('stream info: built XML parses back with channels and locations', () => {
  const xml = buildStreamInfoXml({
    name: 'SEEG & co',
    type: 'SEEG',
    channel_count: 2,
    nominal_srate: 2048,
    channel_format: 'float32',
    source_id: 'rig-1',
    created_at: 12345.678,
    channels: [
      { label: "A1'", type: 'SEEG', unit: 'microvolts', location: [1.5, -2, 30.25] },
      { label: 'A2', type: 'SEEG' },
    ],
  });
  const info = parseStreamInfo(xml);
  assert.equal(info.name, 'SEEG & co');
  assert.equal(info.nominal_srate, 2048);
  assert.equal(info.created_at, 12345.678);
  assert.deepEqual(info.channels, [
    { label: "A1'", type: 'SEEG', unit: 'microvolts', location: [1.5, -2, 30.25] },
    { label: 'A2', type: 'SEEG' },
  ]);
});

test('clock sync: drifting offset with outliers and a clock reset is recovered per segment', () => {
  // Sender clock A for 300 s (offset 1000 + 2e-6·t), reset to clock B (offset −5 − 1e-6·t).
  const ct: number[] = [];
  const cv: number[] = [];
  for (let i = 0; i < 60; i++) {
    const t = 5000 + i * 5;
    ct.push(t);
    cv.push(1000 + 2e-6 * t + (i === 17 ? 0.05 : 0)); // one delayed measurement
  }
  for (let i = 0; i < 40; i++) {
    const t = 10 + i * 5;
    ct.push(t);
    cv.push(-5 - 1e-6 * t);
  }
  const segs = clockSegments(ct, cv);
  assert.equal(segs.length, 2);
  assert.deepEqual([segs[0]!.first, segs[0]!.last, segs[1]!.first, segs[1]!.last], [0, 59, 60, 99]);
  // Samples on clock A then clock B; the delayed measurement (50 ms) is down-weighted to a few µs.
  const ts = new Float64Array(200);
  for (let i = 0; i < 100; i++) ts[i] = 5000 + i * 2.9;
  for (let i = 0; i < 100; i++) ts[100 + i] = 12 + i * 1.9;
  const out = applyClockSync(ts, segs);
  for (let i = 0; i < 100; i++) assert.ok(Math.abs(out[i]! - (ts[i]! + 1000 + 2e-6 * ts[i]!)) < 1e-5, `A ${i}`);
  for (let i = 100; i < 200; i++) assert.ok(Math.abs(out[i]! - (ts[i]! - 5 - 1e-6 * ts[i]!)) < 1e-5, `B ${i}`);
  // A gap in measurements alone (no offset jump) is not a reset.
  const gap = clockSegments([0, 5, 10, 15, 400, 405, 410], [1, 1, 1, 1, 1, 1, 1]);
  assert.equal(gap.length, 1);
});

test('dejitter: least squares by default, robust on request', () => {
  const n = 1000;
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) ts[i] = 100 + i / 250 + (((i * 7919) % 13) - 6) * 1e-4;
  ts[500] += 0.05; // one late sample
  const ols = dejitter(ts, 250);
  const rob = dejitter(ts, 250, { huberSeconds: 0.002 });
  assert.ok(Math.abs(rob.timestamps[0]! - 100) < 2e-5, `robust start ${rob.timestamps[0]}`);
  assert.ok(Math.abs(rob.effectiveSrate - 250) < 0.01);
  assert.ok(Math.abs(ols.timestamps[0]! - 100) > Math.abs(rob.timestamps[0]! - 100));
  // A backward step (clock reset) splits the fit.
  const two = new Float64Array([0, 0.1, 0.2, 0.3, 0.4, 50, 50.1, 50.2]);
  const dj = dejitter(two.map((v, i) => (i >= 5 ? v - 100 : v)), 10);
  assert.ok(Math.abs(dj.timestamps[5]! - -50) < 1e-9);
  const f = robustLineFit([0, 1, 2, 3], [1, 3, 5, 7], Infinity);
  assert.ok(Math.abs(f.b - 2) < 1e-12 && Math.abs(f.a - (1 + 2 * f.x0)) < 1e-12);
});
