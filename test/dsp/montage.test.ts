/**
 * Montages on the SEEG simulator profile (devices/profiles.ts, shafts from devices/geometry.ts):
 * bipolar gives one channel per adjacent contact pair on every shaft; CAR excludes bad channels;
 * Laplacian and matrix montages compute what they claim.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom, toArray } from 'rxjs';
import { getProfile } from '../../devices/profiles.ts';
import { SEEG_SHAFTS } from '../../devices/geometry.ts';
import {
  bipolarMontage, shaftLayout, parseContactLabel, CommonAverageReference, MontageProcessor, laplacianMontage,
  matrixMontage, bipolar, car, detectBadChannels, BAD_CHANNEL_SUFFIX,
} from '../../src/dsp/index.ts';
import type { ChannelInfo, Chunk, SignalChunk } from '../../src/types.ts';

const seeg = getProfile('seeg');

test('bipolar montage on the SEEG profile: one channel per adjacent contact pair on every shaft', () => {
  const m = bipolarMontage(seeg.channels);
  const expected = SEEG_SHAFTS.reduce((a, s) => a + s.contacts - 1, 0);
  assert.equal(m.channels.length, expected);
  assert.ok(SEEG_SHAFTS.length >= 10);
  const byLabel = new Map(seeg.channels.map((c, i) => [c.label, { c, i }]));
  let k = 0;
  for (const s of SEEG_SHAFTS) {
    for (let j = 1; j < s.contacts; j++, k++) {
      const out = m.channels[k]!;
      const a = byLabel.get(`${s.name}${j}`)!, b = byLabel.get(`${s.name}${j + 1}`)!;
      assert.equal(out.label, `${s.name}${j}-${s.name}${j + 1}`);
      assert.equal(out.shaft, s.name);
      assert.equal(out.contact, j);
      assert.equal(out.type, 'SEEG');
      for (let d = 0; d < 3; d++) assert.ok(Math.abs(out.pos![d]! - (a.c.pos![d]! + b.c.pos![d]!) / 2) < 1e-12);
      assert.deepEqual([...m.indices[k]!], [a.i, b.i]);
      assert.deepEqual([...m.weights[k]!], [1, -1]);
    }
  }
  process.stdout.write(`# SEEG profile: ${SEEG_SHAFTS.length} shafts, ${seeg.channels.length} contacts → ${m.channels.length} bipolar channels (${SEEG_SHAFTS.map((s) => `${s.name}:${s.contacts}`).join(' ')})\n`);
});

test('shaft layout from labels alone, and from coordinates alone', () => {
  assert.deepEqual(parseContactLabel('LA12'), { shaft: 'LA', contact: 12 });
  assert.deepEqual(parseContactLabel("B'3"), { shaft: "B'", contact: 3 });
  assert.deepEqual(parseContactLabel('LA-4'), { shaft: 'LA', contact: 4 });
  const labelsOnly = seeg.channels.map((c) => ({ label: c.label, type: c.type }));
  assert.deepEqual(bipolarMontage(labelsOnly).channels.map((c) => c.label), bipolarMontage(seeg.channels).channels.map((c) => c.label));
  // Shuffled order, shaft given, no contact numbers, positions only → ordered along the shaft axis
  const s = SEEG_SHAFTS[0]!;
  const chans: ChannelInfo[] = seeg.channels.filter((c) => c.shaft === s.name).map((c) => ({ label: `x${Math.round(c.pos![0] * 100)}`, shaft: s.name, pos: c.pos }));
  chans.reverse();
  const lay = shaftLayout(chans).get(s.name)!;
  assert.equal(lay.length, s.contacts);
  const m = bipolarMontage(chans);
  assert.equal(m.channels.length, s.contacts - 1);
});

test('bipolar values, bad contacts removed (no bridging by default), metadata follows', async () => {
  const ch = seeg.channels.slice(0, 24);
  const C = ch.length;
  const n = 5;
  const data = new Float32Array(n * C);
  for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) data[i * C + c] = (c + 1) * (c + 1) + i;
  const chunk: SignalChunk = { kind: 'signal', stream: 's', data, timestamps: new Float64Array(n), channels: ch, srate: 2048 };
  const p = new MontageProcessor('bipolar', (c, ex) => bipolarMontage(c, ex));
  const out = p.process(chunk);
  const m = p.current!;
  for (let r = 0; r < m.channels.length; r++) {
    const [a, b] = m.indices[r]!;
    assert.equal(out.data[r], data[a!]! - data[b!]!);
  }
  const bad = ch[2]!.label; // contact 3 of the first shaft
  const q = new MontageProcessor('bipolar', (c, ex) => bipolarMontage(c, ex), [bad]);
  const labels = q.process(chunk).channels.map((c) => c.label);
  assert.ok(!labels.some((l) => l.split('-').includes(bad)));
  assert.equal(labels.length, m.channels.length - 2);
  const bridged = bipolarMontage(ch, new Set([bad]), { bridgeGaps: true }).channels.map((c) => c.label);
  assert.ok(bridged.includes(`${ch[1]!.label}-${ch[3]!.label}`));
});

test('CAR excludes bad channels from the average; Laplacian on shafts; user matrix', () => {
  const ch: ChannelInfo[] = [{ label: 'A1' }, { label: 'A2' }, { label: 'A3' }, { label: 'A4' }];
  const x = Float64Array.of(1, 2, 3, 100, 5, 6, 7, -100);
  const y = new CommonAverageReference(['A4']).processF64(x, ch);
  assert.deepEqual([...y], [1 - 2, 2 - 2, 3 - 2, 100 - 2, 5 - 6, 6 - 6, 7 - 6, -100 - 6]);
  const lap = laplacianMontage(ch);
  const pl = new MontageProcessor('lap', () => lap);
  const yl = pl.processF64(x, ch);
  assert.deepEqual(lap.channels.map((c) => c.label), ['A1', 'A2', 'A3', 'A4']);
  assert.deepEqual([...yl.subarray(0, 4)], [1 - 2, 2 - (1 + 3) / 2, 3 - (2 + 100) / 2, 100 - 3]);
  const mm = matrixMontage(ch, { matrix: [[1, 0, 0, -1], [0, 0.5, 0.5, 0]], inputLabels: ['A1', 'A2', 'A3', 'A4'], outputs: ['A1-A4', { label: 'mid', pos: [0, 0, 1] }] });
  const ym = new MontageProcessor('m', () => mm).processF64(x, ch);
  assert.deepEqual([...ym], [1 - 100, 2.5, 5 + 100, 6.5]);
  assert.deepEqual(mm.channels[1]!.pos, [0, 0, 1]);
});

test('montage operators follow bad-channel markers from detectBadChannels', async () => {
  const ch = seeg.channels.slice(0, 16);
  const C = ch.length;
  const fs = 512;
  const n = fs * 6;
  const data = new Float32Array(n * C);
  let seed = 1;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5);
  for (let i = 0; i < n; i++) {
    const common = 20 * Math.sin(2 * Math.PI * 7 * i / fs);
    for (let c = 0; c < C; c++) data[i * C + c] = c === 5 && i > fs ? 0 : common * (1 + 0.05 * c) + 4 * rnd();
  }
  const chunks: Chunk[] = [];
  for (let i = 0; i < n; i += 64) chunks.push({ kind: 'signal', stream: 'seeg', data: data.slice(i * C, (i + 64) * C), timestamps: Float64Array.from({ length: 64 }, (_, j) => (i + j) / fs), channels: ch, srate: fs });
  const out = await lastValueFrom(from(chunks).pipe(detectBadChannels(), bipolar(), toArray()));
  const marks = out.filter((c) => c.kind === 'marker' && c.stream === 'seeg' + BAD_CHANNEL_SUFFIX);
  assert.ok(marks.length >= 1);
  const last = out.filter((c): c is SignalChunk => c.kind === 'signal').at(-1)!;
  const bad = ch[5]!.label;
  assert.ok(!last.channels.some((c) => c.label.split('-').includes(bad)), 'bad contact still in the bipolar montage');
  const out2 = await lastValueFrom(from(chunks).pipe(detectBadChannels(), car(), toArray()));
  assert.equal(out2.filter((c): c is SignalChunk => c.kind === 'signal').at(-1)!.channels.length, C);
});
