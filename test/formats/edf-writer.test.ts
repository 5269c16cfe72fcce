/** EDF+C writer: round trip through the reader (values within one quantisation step, annotations exact). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEdf, writeEdf, fit8 } from '../../adapters/edf/index.ts';
import { dataFile } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'neurox-edf-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('fit8 rounds header numbers outward into 8 characters', () => {
  assert.equal(fit8(175940.65612, 'down'), '175940.6');
  assert.equal(fit8(175940.65612, 'up'), '175940.7');
  assert.equal(fit8(-0.000123456789, 'down'), '-0.00013');
  assert.equal(fit8(-0.000123456789, 'up'), '-0.00012');
  assert.equal(fit8(3, 'up'), '3');
  assert.equal(fit8(-1234567.2, 'down'), '-1234568');
  assert.throws(() => fit8(-12345678.2, 'down'), /does not fit/);
});

test('EDF+C round trip: several rates, physical scaling, UTF-8 annotations with durations', () => {
  const path = join(dir, 'out.edf');
  const fs1 = 256;
  const n1 = fs1 * 7 + 100; // not a whole number of records: the last one is padded
  const eeg = Float64Array.from({ length: n1 }, (_, i) => 50 * Math.sin((2 * Math.PI * 10 * i) / fs1) + 3 * Math.cos(i / 7));
  const slow = Float32Array.from({ length: 8 * 10 }, (_, i) => (i % 13) - 4.5); // 10 Hz
  const trig = Float64Array.from({ length: n1 }, (_, i) => (i % 256 === 0 ? 5 : 0));
  const annotations = [
    { onset: 0, text: 'start' },
    { onset: 1.25, duration: 4.1, text: 'T1' },
    { onset: 2.0, duration: 0.5, text: '仰卧 → supine' },
    { onset: 3.3333333333333335, text: 'third' },
    { onset: 7.5, duration: 0.25, text: 'last' },
  ];
  const start = new Date(Date.UTC(2024, 2, 5, 14, 3, 9));
  writeEdf(path, {
    signals: [
      { label: 'C3', srate: fs1, samples: eeg, physicalDimension: 'uV', transducer: 'AgAgCl electrode', prefilter: 'HP:0.1Hz LP:100Hz' },
      { label: 'slow', srate: 10, samples: slow, physicalDimension: 'mV' },
      { label: 'TRIG', srate: fs1, samples: trig },
    ],
    annotations,
    startTime: start,
    patient: 'P001 M 01-JAN-1970 Test_Patient',
    recording: 'neurox test',
  });
  const r = readEdf(path, { stimChannels: ['TRIG'] });
  assert.deepEqual(r.warnings, []);
  assert.equal(r.header.format, 'EDF+C');
  assert.equal(r.header.recordDuration, 1);
  assert.equal(r.header.nRecords, 8);
  assert.equal(r.header.startTime.getTime(), start.getTime());
  assert.equal(r.header.patient, 'P001 M 01-JAN-1970 Test_Patient');
  assert.equal(r.header.recording, 'Startdate 05-MAR-2024 neurox test');
  assert.deepEqual(r.recordStarts, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(
    r.signals.map((s) => [s.label, s.srate, s.physicalDimension]),
    [
      ['C3', 256, 'uV'],
      ['slow', 10, 'mV'],
      ['TRIG', 256, ''],
    ],
  );
  assert.equal(r.signals[0]!.transducer, 'AgAgCl electrode');
  assert.equal(r.signals[0]!.prefilter, 'HP:0.1Hz LP:100Hz');
  for (const [k, src] of [eeg, slow, trig].entries()) {
    const s = r.signals[k]!;
    const step = (s.physicalMax - s.physicalMin) / (s.digitalMax - s.digitalMin);
    assert.equal(s.digitalMin, -32768);
    assert.equal(s.digitalMax, 32767);
    assert.ok(s.physicalMin <= Math.min(...src) && s.physicalMax >= Math.max(...src));
    for (let i = 0; i < src.length; i++) {
      assert.ok(Math.abs(s.samples[i]! - src[i]!) <= step / 2 + 1e-12, `${s.label}[${i}]: ${s.samples[i]} vs ${src[i]}`);
    }
    // Padding repeats the last value.
    const last = s.samples[s.samples.length - 1]!;
    assert.ok(Math.abs(last - src[src.length - 1]!) <= step / 2 + 1e-12);
  }
  assert.deepEqual(
    r.annotations,
    annotations.map((a) => ({ onset: a.onset, duration: a.duration ?? 0, text: a.text })),
  );
  assert.equal(r.events.length, 8);
  assert.deepEqual(
    r.events.map((e) => e.onset),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
});

test('EDF+C export of a test recording reads back equal within one step (EEGMMIDB run 3)', () => {
  const src = readEdf(dataFile('eegmmidb/S001R03.edf'));
  const path = join(dir, 'r03.edf');
  writeEdf(path, {
    signals: src.signals.map((s) => ({ label: s.label, srate: s.srate, samples: s.samples, physicalDimension: s.physicalDimension })),
    annotations: src.annotations,
    startTime: src.header.startTime,
  });
  const back = readEdf(path);
  assert.equal(back.signals.length, 64);
  assert.deepEqual(back.annotations, src.annotations);
  for (let c = 0; c < 64; c++) {
    const a = src.signals[c]!.samples;
    const b = back.signals[c]!;
    const step = (b.physicalMax - b.physicalMin) / 65535;
    assert.equal(b.samples.length, a.length);
    for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b.samples[i]!) > step / 2 + 1e-9) assert.fail(`ch ${c} sample ${i}`);
  }
});

test('record duration is chosen for whole samples per record, or rejected', () => {
  const path = join(dir, 'uneven.edf');
  writeEdf(path, {
    signals: [
      { label: 'a', srate: 100, samples: new Float64Array(1100).fill(1) },
      { label: 'b', srate: 12.8, samples: Float64Array.from({ length: 140 }, (_, i) => i) },
    ],
  });
  const r = readEdf(path);
  assert.equal(r.header.recordDuration, 5);
  assert.deepEqual(
    r.signals.map((s) => s.samplesPerRecord),
    [500, 64],
  );
  assert.throws(() => writeEdf(path, { signals: [{ label: 'x', srate: 1 / 3, samples: [1, 2] }] }), /whole samples/);
});
