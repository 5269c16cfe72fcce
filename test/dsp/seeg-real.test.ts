/**
 * Shafts, bipolar montages and online bad-channel detection on the real intracranial
 * recordings in test/data/ieeg (MNE-Python misc data). Expected pairs come from
 * scripts/gen-seeg-montage-fixture.py (MNE reads the names; its own pairing rule).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readEdf } from '../../adapters/edf/reader.ts';
import { attachElectrodesToChannels, readElectrodes } from '../../adapters/bids/electrodes.ts';
import { bipolarMontage, shaftLayout, CommonAverageReference } from '../../src/dsp/montage.ts';
import { cleanLabel, isNonNeural, labelKey, parseContactLabel } from '../../src/dsp/contacts.ts';
import { DspChain } from '../../src/dsp/chain.ts';
import type { BadChannelEvent } from '../../src/dsp/badchannels.ts';
import type { ChannelInfo, SignalChunk } from '../../src/types.ts';

const SEEG = resolve('test/data/ieeg/seeg/sample_seeg.edf');
const ECOG = resolve('test/data/ieeg/ecog/sample_ecog.edf');
const fx = JSON.parse(readFileSync(resolve('test/fixtures/ieeg/montage.json'), 'utf8')) as {
  seeg: { channels: string[]; bipolar: string[]; dropped: string[]; bipolarWithGaps: string[] };
  ecog: { channels: string[]; bipolar: string[] };
};

function load(file: string) {
  const edf = readEdf(file);
  const sigs = edf.signals.filter((s) => !s.isAnnotation && !s.isStatus);
  const channels: ChannelInfo[] = sigs.map((s) => ({ label: s.label, type: 'EEG', unit: s.physicalDimension }));
  return { sigs, channels, srate: sigs[0]!.srate };
}

const labels = (m: { channels: ChannelInfo[] }) => m.channels.map((c) => c.label);

test('real SEEG: the EDF reader sees MNE\'s channel names; bipolar pairs equal the independent list', () => {
  const { channels, srate } = load(SEEG);
  assert.equal(srate, 1000);
  assert.deepEqual(channels.map((c) => c.label), fx.seeg.channels);
  const m = bipolarMontage(channels);
  assert.equal(m.channels.length, 82);
  assert.deepEqual(labels(m), fx.seeg.bipolar);
  // no EKG or DC pair, contacts of different shafts never mixed
  assert.ok(!labels(m).some((l) => /EKG|DC/.test(l)), 'EKG1/EKG2 and DC01.. are not a shaft');
  for (const l of labels(m)) {
    const [a, b] = l.split('-').map((x) => parseContactLabel(x)!);
    assert.equal(a!.shaft, b!.shaft, l);
    assert.equal(b!.contact - a!.contact, 1, l);
  }
  // L'9 and L'10 come after L'14 in the file: the chain follows the numbers, not the file order
  assert.ok(labels(m).includes("L'8-L'9") && labels(m).includes("L'10-L'11"));
  const shafts = shaftLayout(channels);
  assert.deepEqual([...shafts.keys()], ["L'", "N'", "F'", "O'", "G'", "X'"]);
});

test('real SEEG: a missing or excluded contact breaks the chain (no pair across a gap)', () => {
  const { channels } = load(SEEG);
  const dropped = new Set(fx.seeg.dropped);
  const without = channels.filter((c) => !dropped.has(c.label));
  assert.deepEqual(labels(bipolarMontage(without)), fx.seeg.bipolarWithGaps);
  // the same through exclusion (how bad channels leave the montage)
  assert.deepEqual(labels(bipolarMontage(channels, dropped)), fx.seeg.bipolarWithGaps);
  assert.ok(!labels(bipolarMontage(without)).includes("L'4-L'6"));
  assert.ok(labels(bipolarMontage(without, new Set(), { bridgeGaps: true })).includes("L'4-L'6"), 'bridging is opt-in');
  // a shaft with one contact produces nothing
  assert.deepEqual(labels(bipolarMontage([{ label: 'Q1' }, { label: "L'1" }, { label: "L'2" }])), ["L'1-L'2"]);
});

test('clinical spellings: prefixes, primes, case, spaces, dots, reference suffixes; non-neural channels skipped', () => {
  assert.equal(labelKey("POL L'1"), "L'1");
  assert.equal(labelKey('SEEG l\u20192'), "L'2");
  assert.equal(labelKey("EEG L' 3-Ref"), "L'3");
  assert.equal(labelKey("L'4."), "L'4");
  assert.equal(labelKey('eeg: lah 05'), 'LAH05');
  assert.equal(cleanLabel('POL LAH 1'), 'LAH 1');
  assert.deepEqual(parseContactLabel('POL RHH-12'), { shaft: 'RHH', contact: 12 });
  assert.deepEqual(parseContactLabel('LAH05'), { shaft: 'LAH', contact: 5 });
  assert.equal(parseContactLabel('123'), null);
  for (const l of ['EKG1', 'EKGL', 'ECG+', 'ECG', 'EMG2', 'EOG L', 'TRIG', 'Trigger', 'DC01', 'Status', 'STI 014', 'Photic', 'EDF Annotations', 'POL DC03', 'POL EKG1-Ref'])
    assert.ok(isNonNeural({ label: l }), l);
  for (const l of ["L'1", 'LA1', 'C12', 'BTM3', 'X\'16', 'Fp1', 'Cz', 'E1', 'ST1']) assert.ok(!isNonNeural({ label: l }), l);
  assert.ok(isNonNeural({ label: 'A1', type: 'ECG' }), 'type says so');

  const raw: ChannelInfo[] = [
    { label: "POL L'1" }, { label: 'SEEG l\u20192' }, { label: "EEG L' 3-Ref" }, { label: "L'4." },
    { label: 'lah1' }, { label: 'LAH 2' }, { label: 'LAH.3' },
    { label: 'EKG1' }, { label: 'EKG2' }, { label: 'DC01' }, { label: 'DC02' }, { label: 'TRIG1' }, { label: 'TRIG2' },
    { label: 'EDF Annotations' }, { label: 'Photic' }, { label: 'M1', type: 'ECG' }, { label: 'M2', type: 'ECG' },
  ];
  assert.deepEqual(labels(bipolarMontage(raw)), ["L'1-l'2", "l'2-L' 3", "L' 3-L'4", 'lah1-LAH 2', 'LAH 2-LAH.3']);
  // CAR leaves the non-neural inputs out of the mean
  const car = new CommonAverageReference();
  car.processF64(new Float64Array(raw.length), raw);
  assert.deepEqual([...car.averaged], [0, 1, 2, 3, 4, 5, 6]);
});

test('real ECoG: strips chain, grid rows do not chain into each other when positions are known', () => {
  const { channels, srate } = load(ECOG);
  assert.ok(Math.abs(srate - 999.4121105232217) < 1e-6, `srate ${srate}`);
  assert.deepEqual(channels.map((c) => c.label), fx.ecog.channels);
  const table = readElectrodes(resolve('test/data/ieeg/ecog/sample_ecog_electrodes.tsv'));
  const withPos = attachElectrodesToChannels(channels, table).channels;
  const m = bipolarMontage(withPos);
  assert.deepEqual(labels(m), fx.ecog.bipolar);
  assert.ok(!labels(m).includes('C8-C9') && !labels(m).some((l) => l.startsWith('EKG')));
  // midpoints in metres
  const c12 = m.channels.find((c) => c.label === 'C1-C2')!;
  const p1 = withPos.find((c) => c.label === 'C1')!.pos!, p2 = withPos.find((c) => c.label === 'C2')!.pos!;
  assert.deepEqual(c12.pos, [(p1[0] + p2[0]) / 2, (p1[1] + p2[1]) / 2, (p1[2] + p2[2]) / 2]);
  // without coordinates the numbering alone cannot tell a row end: C8-C9 appears
  assert.ok(labels(bipolarMontage(channels)).includes('C8-C9'));
});

function* chunks(sigs: { samples: Float64Array | Float32Array | number[] }[], channels: ChannelInfo[], srate: number, seconds: number, edit?: (c: number, i: number, v: number) => number): Generator<SignalChunk> {
  const C = channels.length;
  const N = Math.min(sigs[0]!.samples.length, Math.round(seconds * srate));
  const step = Math.round(srate * 0.02);
  for (let i = 0; i + step <= N; i += step) {
    const data = new Float32Array(step * C);
    for (let k = 0; k < step; k++) for (let c = 0; c < C; c++) {
      const v = sigs[c]!.samples[i + k]!;
      data[k * C + c] = edit ? edit(c, i + k, v) : v;
    }
    yield { kind: 'signal', stream: 'seeg', data, timestamps: Float64Array.from({ length: step }, (_, k) => (i + k) / srate), channels, srate };
  }
}

test('bad-channel detector in the dsp chain: a contact made flat and one made railing in the real SEEG leave the bipolar montage', () => {
  const { sigs, channels, srate } = load(SEEG);
  const flat = channels.findIndex((c) => c.label === "L'5");
  const rail = channels.findIndex((c) => c.label === "X'3");
  const hooked: BadChannelEvent[] = [];
  const chain = new DspChain({ montage: 'bipolar', badChannels: true }, { onBadChannel: (e) => hooked.push(e) });
  const events: BadChannelEvent[] = [];
  let last: SignalChunk | undefined;
  const outSets = new Set<string>();
  let flatValue = 0;
  for (const c of chunks(sigs, channels, srate, 10, (ch, i, v) => {
    if (ch === flat && i === 4000) flatValue = v;
    if (ch === flat && i >= 4000) return flatValue; // disconnected: holds its last value
    if (ch === rail && i >= 5000) return 3000; // saturated amplifier input, µV
    return v;
  })) {
    const out = chain.process(c);
    events.push(...chain.takeEvents());
    assert.equal(out.length, 1);
    last = out[0] as SignalChunk;
    outSets.add(labels(last).join(','));
  }
  assert.deepEqual(hooked, events, 'the hook and the queue see the same decisions');
  const flatEv = events.find((e) => e.label === "L'5" && e.bad)!;
  const railEv = events.find((e) => e.label === "X'3" && e.bad)!;
  assert.ok(flatEv, `L'5 flagged (events: ${events.map((e) => `${e.label}:${e.bad}:${e.reasons}`).join(' ')})`);
  assert.ok(railEv, "X'3 flagged");
  assert.ok(flatEv.reasons.includes('flat'), `flat reasons ${flatEv.reasons}`);
  assert.ok(railEv.reasons.includes('railing'), `railing reasons ${railEv.reasons}`);
  assert.ok(flatEv.t > 4 && flatEv.t < 5.5, `flat detected at ${flatEv.t}`);
  assert.ok(railEv.t > 5 && railEv.t < 6.5, `railing detected at ${railEv.t}`);
  assert.ok(!events.some((e) => /EKG|DC/.test(e.label)), 'non-neural inputs are not judged');
  // at the end: both are bad, the montage lacks every pair that uses them and never bridges them
  const bad = chain.badChannels('seeg');
  assert.ok(bad.includes("L'5") && bad.includes("X'3"), `bad: ${bad}`);
  const out = labels(last!);
  assert.deepEqual(out, labels(bipolarMontage(channels, new Set(bad))));
  for (const l of ["L'4-L'5", "L'5-L'6", "L'4-L'6", "X'2-X'3", "X'3-X'4", "X'2-X'4"]) assert.ok(!out.includes(l), l);
  assert.ok(out.includes("L'3-L'4") || bad.includes("L'3") || bad.includes("L'4"));
  // the montage changed while running (before and after the decisions)
  assert.ok(outSets.size >= 2);
  assert.ok([...outSets][0]!.split(',').includes("L'4-L'5"));
});

test('bad channels leave the CAR mean in the chain; options parse', async () => {
  const { parseDspOptions } = await import('../../src/dsp/chain.ts');
  assert.deepEqual(parseDspOptions({ badChannels: true }), { badChannels: true });
  assert.deepEqual(parseDspOptions({ notch: '60', badChannels: true }), { notch: 60, badChannels: { lineFreq: 60 } });
  assert.deepEqual(parseDspOptions({ badChannels: 'confirmWindows=3,lineFreq=50' }), { badChannels: { confirmWindows: 3, lineFreq: 50 } });
  assert.throws(() => parseDspOptions({ badChannels: 'nope=1' }), /--bad-channels: expected KEY=NUMBER/);
  assert.deepEqual(parseDspOptions({ badChannels: false }), {});

  const { sigs, channels, srate } = load(SEEG);
  const flat = channels.findIndex((c) => c.label === "N'4");
  const chain = new DspChain({ montage: 'car', badChannels: true });
  let lastIn: SignalChunk | undefined, lastOut: SignalChunk | undefined;
  for (const c of chunks(sigs, channels, srate, 6, (ch, i, v) => (ch === flat && i >= 2000 ? 0 : v))) {
    lastIn = c;
    lastOut = chain.process(c)[0] as SignalChunk;
  }
  assert.ok(chain.badChannels('seeg').includes("N'4"));
  const bad = new Set(chain.badChannels('seeg'));
  const C = channels.length;
  const good = channels.map((c, i) => ({ c, i })).filter(({ c }) => !bad.has(c.label) && !isNonNeural(c));
  assert.equal(good.length, 88 - bad.size); // 98 inputs − EKG1/EKG2 − DC01..DC08
  const k = 5;
  const mean = good.reduce((s, { i }) => s + lastIn!.data[k * C + i]!, 0) / good.length;
  const j = channels.findIndex((c) => c.label === "L'1");
  assert.ok(Math.abs(lastOut!.data[k * C + j]! - (lastIn!.data[k * C + j]! - mean)) < 1e-3);
});
