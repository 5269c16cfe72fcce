/**
 * EDF / EDF+ / BDF reader against the recordings in test/data. Reference values come
 * from MNE-Python (scripts/gen-edf-fixtures.py → fixtures/edf-mne.json), from the
 * `.txt` dump shipped beside test_edf_stim_channel.edf, from the signal labels of
 * test_generator_2.edf and from PhysioNet's own `.edf.event` files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEdf, signalTimes, EdfFormatError } from '../../adapters/edf/index.ts';
import { dataFile, peakFrequency, ROOT } from './helpers.ts';

interface MneFile {
  ch_names: string[];
  sfreq: number;
  n_times: number;
  sample_index: number[];
  samples: Record<string, number[]>;
  annotations: { onset: number; duration: number; text: string }[];
  status_events?: [number, number][];
}
const mne = JSON.parse(readFileSync(join(ROOT, 'test/formats/fixtures/edf-mne.json'), 'utf8')) as {
  files: Record<string, MneFile>;
};

const FILES = Object.keys(mne.files);

test('every EDF/BDF file in test/data reads and matches MNE (channels, rates, samples, annotations)', () => {
  assert.equal(FILES.length, 11);
  for (const rel of FILES) {
    const ref = mne.files[rel]!;
    const rec = readEdf(dataFile(rel));
    assert.deepEqual(
      rec.signals.map((s) => s.label),
      ref.ch_names,
      `${rel}: channel names`,
    );
    const top = Math.max(...rec.signals.map((s) => s.srate));
    assert.equal(top, ref.sfreq, `${rel}: sampling rate`);
    for (const s of rec.signals) {
      const want = ref.samples[s.label];
      if (s.srate === top) assert.equal(s.samples.length, ref.n_times, `${rel}/${s.label}: length`);
      if (!want) continue;
      const lsb = Math.abs((s.physicalMax - s.physicalMin) / (s.digitalMax - s.digitalMin));
      ref.sample_index.forEach((idx, k) => {
        // MNE gives the BDF Status channel as its trigger bits (digital & 0xFFFF).
        const got = s.isStatus ? s.digital![idx]! & 0xffff : s.samples[idx]!;
        assert.ok(
          Math.abs(got - want[k]!) <= 1e-9 * Math.max(1, Math.abs(want[k]!)) + lsb * 1e-6,
          `${rel}/${s.label}[${idx}]: ${got} vs MNE ${want[k]}`,
        );
      });
    }
    if (rel === 'edf/MB0400FU.EDF') continue; // annotations checked separately (MNE 1.3 misreads them)
    assert.deepEqual(
      rec.annotations.map((a) => [round6(a.onset), round6(a.duration), a.text]),
      ref.annotations.map((a) => [round6(a.onset), round6(a.duration), a.text]),
      `${rel}: annotations`,
    );
    if (ref.status_events) {
      assert.deepEqual(
        rec.events.map((e) => [e.sample, e.value]),
        ref.status_events,
        `${rel}: Status trigger events`,
      );
    }
    assert.deepEqual(rec.warnings, [], `${rel}: no warnings`);
  }
});

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

test('test_edf_stim_channel.edf equals its .txt dump (values and trigger channel)', () => {
  const rec = readEdf(dataFile('edf/test_edf_stim_channel.edf'), { stimChannels: ['DIG DTRIG'] });
  const rows = readFileSync(dataFile('edf/test_edf_stim_channel.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  assert.equal(rows.length, 717);
  assert.equal(rec.signals.length, 25);
  for (const row of rows) assert.equal(row.length, 25);
  // The dump holds the values before EDF quantisation, printed to 7 significant
  // digits: each value must lie within half a digital step plus half a printed
  // digit (plus float32 rounding of the source) of ours. MNE's own test of this
  // file allows 1.5 uV; this is tighter for every channel.
  let maxOverLsb = 0;
  rows.forEach((row, i) => {
    row.forEach((want, c) => {
      const s = rec.signals[c]!;
      const got = s.samples[i]!;
      const lsb = (s.physicalMax - s.physicalMin) / (s.digitalMax - s.digitalMin);
      const printed = want === 0 ? 0 : 0.5 * 10 ** (Math.floor(Math.log10(Math.abs(want))) - 6);
      const f32 = Math.abs(want) * 2 ** -24;
      assert.ok(Math.abs(got - want) <= 0.5 * lsb + printed + f32, `sample ${i}, channel ${c}: ${got} vs ${want}`);
      maxOverLsb = Math.max(maxOverLsb, Math.abs(got - want) - printed - f32);
    });
  });
  assert.ok(maxOverLsb < 0.5);
  const trig = rec.signals[24]!;
  assert.equal(trig.label, 'DIG DTRIG');
  for (let i = 0; i < rows.length; i++) assert.equal(trig.samples[i], rows[i]![24]);
  // Trigger events = the rows where the dump's trigger column becomes non-zero.
  const onsets: number[] = [];
  rows.forEach((r, i) => {
    if (r[24] !== 0 && (i === 0 || rows[i - 1]![24] === 0)) onsets.push(i);
  });
  assert.ok(onsets.length > 5);
  assert.deepEqual(
    rec.events.map((e) => e.sample),
    onsets,
  );
  assert.equal(rec.header.recordDuration, 9.59375);
  assert.equal(rec.signals[0]!.srate, 128);
});

test('test_generator_2.edf: each signal has the frequency and amplitude its label states', () => {
  const rec = readEdf(dataFile('edf/test_generator_2.edf'));
  assert.equal(rec.header.format, 'EDF+C');
  assert.equal(rec.header.nRecords, 600);
  assert.equal(rec.signals.length, 11);
  const sines = rec.signals.filter((s) => s.label.startsWith('sine'));
  assert.equal(sines.length, 6);
  for (const s of sines) {
    const f = Number(/sine ([\d.]+) Hz/.exec(s.label)![1]);
    assert.equal(s.srate, 200);
    const seg = s.samples.subarray(0, 2000); // first 10 s
    const fHat = peakFrequency(seg, s.srate);
    assert.ok(Math.abs(fHat - f) < 0.02, `${s.label}: estimated ${fHat} Hz`);
    // Amplitude 100 uV: peak and RMS·√2 over the whole recording.
    let peak = 0;
    let ss = 0;
    for (const v of s.samples) {
      peak = Math.max(peak, Math.abs(v));
      ss += v * v;
    }
    const rmsAmp = Math.sqrt(ss / s.samples.length) * Math.SQRT2;
    assert.ok(Math.abs(peak - 100) < 0.5, `${s.label}: peak ${peak}`);
    assert.ok(Math.abs(rmsAmp - 100) < 0.5, `${s.label}: RMS amplitude ${rmsAmp}`);
    assert.equal(s.physicalDimension, 'uV');
  }
  // Square wave (no frequency in its label): two levels ±100 uV, and zero
  // crossings give the generator's 0.1 Hz (a 10 s period).
  const sq = rec.signals.find((s) => s.label === 'squarewave')!;
  let crossings = 0;
  for (let i = 1; i < sq.samples.length; i++) if (sq.samples[i - 1]! < 0 !== sq.samples[i]! < 0) crossings++;
  assert.ok(Math.abs(crossings / 2 / 600 - 0.1) < 0.002, `squarewave: ${crossings} crossings in 600 s`);
  const levels = new Set(Array.from(sq.samples, (v) => Math.round(v)));
  assert.deepEqual([...levels].sort((a, b) => a - b), [-100, 100]);
  assert.deepEqual(
    rec.annotations.map((a) => [a.onset, a.text]),
    [
      [0, 'RECORD START'],
      [600, 'REC STOP'],
    ],
  );
  assert.deepEqual(rec.recordStarts.slice(0, 3), [0, 1, 2]);
  assert.equal(rec.recordStarts[599], 599);
});

test('UTF-8 annotations come out decoded with their onsets and durations', () => {
  const rec = readEdf(dataFile('edf/test_utf8_annotations.edf'));
  assert.deepEqual(rec.annotations, [
    { onset: 0, duration: 0, text: 'RECORD START' },
    { onset: 2, duration: 0.5, text: '仰卧' },
  ]);
});

test('BDF Status channel: 24-bit raw values kept, trigger bits become events', () => {
  const rec = readEdf(dataFile('edf/test_bdf_stim_channel.bdf'));
  assert.equal(rec.header.format, 'BDF');
  assert.equal(rec.header.sampleWidth, 3);
  const st = rec.signals.find((s) => s.label === 'Status')!;
  assert.ok(st.isStatus);
  assert.ok(st.digital instanceof Int32Array);
  assert.equal(st.srate, 500);
  const ev = rec.events;
  assert.deepEqual(ev.slice(0, 3).map((e) => [e.sample, e.value, e.onset]), [
    [242, 4, 0.484],
    [310, 2, 0.62],
    [952, 1, 1.904],
  ]);
  // Trigger mask: only bit 2 (value 4) survives.
  const only4 = readEdf(dataFile('edf/test_bdf_stim_channel.bdf'), { triggerMask: 4 });
  assert.ok(only4.events.length > 0);
  assert.ok(only4.events.every((e) => e.value === 4));
  const big = readEdf(dataFile('edf/test.bdf'));
  assert.equal(big.signals.length, 73);
  assert.equal(big.signals[0]!.srate, 2048);
  assert.deepEqual(big.events.map((e) => [e.sample, e.value]), [[589, 128]]);
});

test('per-signal rates: test_uneven_samp.edf', () => {
  const rec = readEdf(dataFile('edf/test_uneven_samp.edf'));
  assert.deepEqual(
    rec.signals.map((s) => [s.samplesPerRecord, s.srate, s.samples.length]),
    [
      [1000, 100, 11000],
      [128, 12.8, 1408],
    ],
  );
  // Block signal, 0.2 Hz, 1/0 uV: exactly 2 values, the first block positive.
  const blk = rec.signals[1]!;
  const t = signalTimes(blk, rec.recordStarts);
  assert.equal(t[128], 10);
  const values = new Set(Array.from(blk.samples, (v) => Math.round(v * 1000) / 1000));
  assert.ok(values.size <= 3, `block values ${[...values]}`);
});

test('EDF+D (MB0400FU.EDF): record starts from time-keeping TALs, annotations with the writer quirk repaired', () => {
  const rec = readEdf(dataFile('edf/MB0400FU.EDF'));
  assert.equal(rec.header.format, 'EDF+D');
  assert.equal(rec.header.nRecords, 29);
  assert.equal(rec.recordStarts.length, 29);
  assert.deepEqual(rec.recordStarts, Array.from({ length: 29 }, (_, i) => i));
  assert.equal(rec.signals.length, 25);
  assert.ok(rec.signals.every((s) => s.srate === 200 && s.samples.length === 5800));
  // The Nihon Kohden export glues the next TAL onto the time-keeping TAL
  // ("+1.000000\x14\x14+1.140000\x14A1+A2 OFF\x14"). MNE 1.3 reports the text
  // "+1.140000" at 1.0 s; we read the annotation at its own onset.
  assert.deepEqual(rec.annotations, [
    { onset: 0, duration: 0, text: 'Segment: REC START ALLE EEG' },
    { onset: 1.14, duration: 0, text: 'A1+A2 OFF' },
  ]);
});

/** Decode a PhysioNet (WFDB/MIT format) annotation file into [sample, aux text]. */
function readWfdbAnnotations(path: string): { sample: number; aux: string }[] {
  const b = readFileSync(path);
  const out: { sample: number; aux: string }[] = [];
  let t = 0;
  let i = 0;
  while (i + 1 < b.length) {
    const word = b.readUInt16LE(i);
    i += 2;
    const code = word >> 10;
    const interval = word & 0x3ff;
    if (code === 0 && interval === 0) break; // end of file
    if (code === 59) {
      // SKIP: a 32-bit interval follows, high 16 bits first
      const hi = b.readInt16LE(i);
      const lo = b.readUInt16LE(i + 2);
      t += hi * 65536 + lo;
      i += 4;
    } else if (code === 63) {
      // AUX string of `interval` bytes, padded to even length
      const text = b.subarray(i, i + interval).toString('latin1');
      i += interval + (interval & 1);
      if (out.length > 0) out[out.length - 1]!.aux = text;
    } else if (code >= 59) {
      // NUM / SUB / CHN: no payload we need
    } else {
      t += interval;
      out.push({ sample: t, aux: '' });
    }
  }
  return out;
}

test('EEGMMIDB runs 3–6: 64 channels at 160 Hz, T0/T1/T2 at the onsets of the PhysioNet .event files', () => {
  for (const run of ['03', '04', '05', '06']) {
    const rel = `eegmmidb/S001R${run}.edf`;
    const rec = readEdf(dataFile(rel));
    assert.equal(rec.header.format, 'EDF+C');
    assert.equal(rec.signals.length, 64);
    assert.ok(rec.signals.every((s) => s.srate === 160 && s.samples.length === 20000));
    assert.equal(rec.signals[0]!.label, 'Fc5.');
    assert.ok(rec.signals.some((s) => s.label === 'C3..'));
    const ev = readWfdbAnnotations(dataFile(`${rel}.event`)).filter((e) => /^T[012] /.test(e.aux));
    assert.equal(ev.length, rec.annotations.length, `${rel}: number of events`);
    assert.equal(rec.annotations.length, 30);
    rec.annotations.forEach((a, k) => {
      const e = ev[k]!;
      const [label, , dur] = e.aux.split(' ');
      assert.equal(a.text, label);
      assert.ok(['T0', 'T1', 'T2'].includes(a.text));
      assert.ok(Math.abs(a.onset - e.sample / 160) < 1e-9, `${rel} #${k}: onset ${a.onset} vs ${e.sample / 160}`);
      assert.ok(Math.abs(a.duration - Number(dur)) < 1e-9);
    });
    const counts = { T0: 0, T1: 0, T2: 0 } as Record<string, number>;
    for (const a of rec.annotations) counts[a.text]!++;
    assert.equal(counts.T0, 15);
    assert.equal(counts.T1! + counts.T2!, 15);
  }
});

test('errors name the file and byte offset', () => {
  assert.throws(
    () => readEdf(join(ROOT, 'does-not-exist.edf')),
    (e: unknown) => e instanceof EdfFormatError && /does-not-exist\.edf: byte offset 0/.test(e.message),
  );
});
