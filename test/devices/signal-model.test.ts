/**
 * Signal model: determinism (bit-identical per seed, whatever the chunking), the
 * COUNTER channel, artifacts switches and the marker vocabulary / schedule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignalGenerator, generateRecording } from '../../devices/signal-model.ts';
import { speechTuning, speechResponse } from '../../devices/speech-tuning.ts';
import { COUNTER_MODULUS, counterProfile, getProfile } from '../../devices/profiles.ts';
import { Schedule } from '../../devices/schedule.ts';
import { Rng } from '../../src/util/random.ts';
import { WORD_LIST, wordDuration } from '../../devices/speech.ts';
import { bandPower, column } from './spectral.ts';

function bytes(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Generate `total` samples in chunks drawn from `sizes` (cycled). */
function chunked(gen: SignalGenerator, total: number, sizes: number[]): { data: Float32Array; events: string[] } {
  const C = gen.channels.length;
  const out = new Float32Array(total * C);
  const events: string[] = [];
  let done = 0, i = 0;
  while (done < total) {
    const n = Math.min(total - done, sizes[i++ % sizes.length]);
    out.set(gen.next(n), done * C);
    done += n;
    for (const e of gen.events()) events.push(`${e.sampleIndex}:${e.label}`);
  }
  return { data: out, events };
}

test('same seed → bit-identical output regardless of chunk sizes (seeg, 3 s, artifacts + dropout + annotations)', () => {
  const p = getProfile('seeg');
  const opts = { seed: 42, paradigm: 'speech' as const, dropout: { ratePerMin: 30 }, annotate: true, counterChannel: true };
  const n = 3 * p.srate;
  const a = chunked(new SignalGenerator(p, opts), n, [n]);
  const b = chunked(new SignalGenerator(p, opts), n, [1, 7, 64, 333, 2, 1000, 41]);
  assert.equal(a.data.length, n * (p.channels.length + 1));
  assert.ok(bytes(a.data).equals(bytes(b.data)), 'chunked output differs from one-shot output');
  assert.deepEqual(a.events, b.events);
  assert.ok(a.events.some((e) => e.endsWith(':calib:start')));
  const c = chunked(new SignalGenerator(p, { ...opts, seed: 43 }), n, [n]);
  assert.ok(!bytes(a.data).equals(bytes(c.data)), 'a different seed must give a different stream');
});

test('determinism holds for every profile (1 s, odd chunk sizes)', () => {
  for (const name of ['eeg64-160', 'eeg64-500', 'ecog64', 'meg', 'audio16k']) {
    const p = getProfile(name);
    const n = p.srate;
    const opts = { seed: 7, paradigm: name === 'audio16k' ? ('speech' as const) : undefined, schedule: { startDelaySec: 0.1 } };
    const a = chunked(new SignalGenerator(p, opts), n, [n]);
    const b = chunked(new SignalGenerator(p, opts), n, [3, 17, 250, 1]);
    assert.ok(bytes(a.data).equals(bytes(b.data)), `${name}: chunked output differs`);
    assert.deepEqual(a.events, b.events, `${name}: events differ`);
    for (const v of a.data) assert.ok(Number.isFinite(v), `${name}: non-finite sample`);
  }
});

test('generateRecording equals the streaming generator', () => {
  const r = generateRecording('eeg64-160', 'mi', 5, 5, { artifacts: false });
  const g = new SignalGenerator(getProfile('eeg64-160'), { seed: 5, paradigm: 'mi', artifacts: false });
  const d = g.next(5 * 160);
  assert.ok(bytes(r.data).equals(bytes(d)));
  assert.equal(r.srate, 160);
  assert.equal(r.channels.length, 64);
  assert.deepEqual(r.events.map((e) => e.label), ['calib:start', 'mi:' + r.events[1].label.slice(3)]);
  assert.equal(r.events[0].t, r.events[0].sampleIndex / 160);
});

test('COUNTER channel is exact: sample index mod 2^24, float32-exact, never dropped out', () => {
  assert.equal(COUNTER_MODULUS, 2 ** 24);
  assert.equal(Math.fround(COUNTER_MODULUS - 1), COUNTER_MODULUS - 1);
  const p = counterProfile(8, 2048);
  const g = new SignalGenerator(p, { seed: 1, dropout: { ratePerMin: 600, meanSec: 2 } });
  assert.equal(g.channels.length, 8);
  assert.equal(g.channels[7].label, 'COUNTER');
  assert.equal(g.channels[7].type, 'MISC');
  const { data } = chunked(g, 4096, [5, 100, 1]);
  for (let i = 0; i < 4096; i++) assert.equal(data[i * 8 + 7], i % COUNTER_MODULUS);
  // the option also works on any numeric profile
  const e = new SignalGenerator(getProfile('eeg64-160'), { seed: 1, counterChannel: true });
  assert.equal(e.channels.length, 65);
  const d = e.next(300);
  for (let i = 0; i < 300; i++) assert.equal(d[i * 65 + 64], i);
});

test('artifacts: dropout gives exact flat zeros; blinks are frontal; switches turn them off', () => {
  const p = getProfile('eeg64-160');
  const r = generateRecording(p, 'rest', 3, 60, { dropout: { ratePerMin: 6, meanSec: 3 }, annotate: true, artifacts: { blinks: true, line: false, pops: false, drift: false } });
  const C = 64;
  const drops = r.events.filter((e) => e.label.startsWith('truth:dropout/'));
  assert.ok(drops.length >= 2, `expected dropouts, got ${drops.length}`);
  for (const d of drops) {
    const c = r.channels.findIndex((ch) => ch.label === d.label.split('/')[1]);
    const end = r.events.find((e) => e.label === `truth:reconnect/${r.channels[c].label}` && e.sampleIndex > d.sampleIndex);
    const stop = Math.min(end ? end.sampleIndex : Infinity, r.data.length / C);
    for (let i = d.sampleIndex; i < stop; i++) assert.equal(r.data[i * C + c], 0);
  }
  const blinks = r.events.filter((e) => e.label === 'truth:blink');
  assert.ok(blinks.length >= 3, `expected blinks, got ${blinks.length}`);
  const fp1 = r.channels.findIndex((c) => c.label === 'Fp1'), oz = r.channels.findIndex((c) => c.label === 'Oz');
  let sFp = 0, sOz = 0;
  for (const b of blinks) {
    const i = b.sampleIndex + 16; // ~100 ms after onset: blink peak
    if (i >= r.data.length / C) continue;
    sFp += r.data[i * C + fp1] - r.data[b.sampleIndex * C + fp1];
    sOz += Math.abs(r.data[i * C + oz] - r.data[b.sampleIndex * C + oz]);
  }
  assert.ok(sFp / blinks.length > 50, `blink at Fp1 should be large and positive (${sFp / blinks.length} µV)`);
  assert.ok(sOz < sFp / 3, 'blinks must be frontal');
  const off = generateRecording(p, 'rest', 3, 20, { artifacts: false, annotate: true });
  assert.equal(off.events.filter((e) => e.label.startsWith('truth:blink') || e.label.startsWith('truth:pop')).length, 0);
});

test('electrode pops: step then exponential decay on one channel', () => {
  const r = generateRecording('eeg64-160', 'rest', 9, 120, { annotate: true, artifacts: { pops: true, blinks: false, line: false, drift: false } });
  const pops = r.events.filter((e) => e.label.startsWith('truth:pop/'));
  assert.ok(pops.length >= 1, 'expected at least one pop in 2 min');
  const C = 64;
  const p = pops[0];
  const c = r.channels.findIndex((ch) => ch.label === p.label.slice('truth:pop/'.length));
  const i = p.sampleIndex;
  if (i + 200 < r.data.length / C && i > 1) {
    const jump = r.data[i * C + c] - r.data[(i - 1) * C + c];
    assert.ok(Math.abs(jump) > 30, `pop step should be large (${jump})`);
  }
});

test('schedule: calibration block, balanced classes, marker vocabulary, online block', () => {
  const s = new Schedule('mi', 3, { calibTrials: 5 });
  s.ensure(200);
  const labels = s.events.map((e) => e.label);
  assert.equal(labels[0], 'calib:start');
  const iEnd = labels.indexOf('calib:end');
  assert.ok(iEnd > 0);
  const calib = labels.slice(1, iEnd);
  assert.equal(calib.filter((l) => l === 'mi:left').length, 5);
  assert.equal(calib.filter((l) => l === 'mi:right').length, 5);
  assert.equal(calib.filter((l) => l === 'rest').length, 10);
  assert.equal(labels[iEnd + 1], 'online:start');
  assert.ok(labels.slice(iEnd + 2).includes('mi:left'));
  for (let i = 1; i < s.events.length; i++) assert.ok(s.events[i].t >= s.events[i - 1].t, 'events sorted');
  const re = /^(calib:start|calib:end|online:start|rest|mi:(left|right|feet)|p300:(target|nontarget)|ssvep:[0-9.]+|speech:word\/[a-z]+|rest:eyes-(open|closed))$/;
  for (const p of ['mi', 'p300', 'ssvep', 'speech', 'rest'] as const) {
    const sc = new Schedule(p, 1);
    sc.ensure(120);
    for (const e of sc.events) assert.match(e.label, re, `${p}: bad marker ${e.label}`);
    // schedules depend on (paradigm, seed) only
    const again = new Schedule(p, 1);
    again.ensure(120);
    assert.deepEqual(again.events.slice(0, 20), sc.events.slice(0, 20));
  }
  const p3 = new Schedule('p300', 2, { calibTrials: 4 });
  p3.ensure(100);
  const fl = p3.events.filter((e) => e.kind === 'flash' && e.block === 'calib');
  assert.equal(fl.filter((e) => e.cls === 'target').length, 4 * 2);
  assert.equal(fl.length, 4 * 12);
  assert.throws(() => new Schedule('mi', 1, { classes: ['up'] }), /not supported/);
});

test('prng: gaussian table has unit variance and is seeded', () => {
  const r = new Rng(1);
  const x = new Float64Array(200000);
  r.fillGauss(x, 0, x.length);
  let m = 0, v = 0;
  for (const a of x) m += a;
  m /= x.length;
  for (const a of x) v += (a - m) ** 2;
  v /= x.length;
  assert.ok(Math.abs(m) < 0.01 && Math.abs(v - 1) < 0.02, `mean ${m} var ${v}`);
  const a = new Rng(5, 2), b = new Rng(5, 2), c = new Rng(5, 3);
  assert.equal(a.u32(), b.u32());
  assert.notEqual(new Rng(5, 2).u32(), c.u32());
});

/**
 * Word-specific site pattern of speech high gamma on the SEEG speech contacts: per
 * trial, log HG power (70–150 Hz) per contact in three windows locked to the spoken
 * word (0.3 s before it — covers the frontal leads — its first half, its second half
 * + 0.1 s), minus that window's mean over contacts (the site pattern only: the common
 * speech time course and the trial amplitude drop out); averaged per word, then
 * centred across words.
 */
function wordPatterns(seed: number): { pat: Map<string, number[]>; trials: { word: string; x: number[] }[] } {
  const r = generateRecording('seeg', 'speech', seed, 490, { artifacts: false, counterChannel: false, annotate: true, schedule: { calibTrials: 10 } });
  const C = r.channels.length, fs = r.srate, n = r.data.length / C;
  const chans = getProfile('seeg').roles!.speechHG!.map((l) => r.channels.findIndex((c) => c.label === l));
  const trials: { word: string; x: number[] }[] = [];
  for (const e of r.events) {
    if (!e.label.startsWith('truth:speech-onset/')) continue;
    const word = e.label.split('/')[1];
    const dur = wordDuration(word);
    const edges = [-0.3, 0, dur / 2, dur + 0.1];
    if (e.sampleIndex + Math.round((dur + 0.1) * fs) > n) continue;
    const x: number[] = [];
    for (let b = 0; b < 3; b++) {
      const i0 = e.sampleIndex + Math.round(edges[b] * fs), i1 = e.sampleIndex + Math.round(edges[b + 1] * fs);
      const xb = chans.map((c) => Math.log(bandPower(column(r.data, C, c, i0, i1), fs, 70, 150, 10)));
      const m = xb.reduce((a, v) => a + v, 0) / xb.length;
      x.push(...xb.map((v) => v - m));
    }
    trials.push({ word, x });
  }
  const d = trials[0].x.length;
  const pat = new Map<string, number[]>();
  for (const w of WORD_LIST) {
    const ts = trials.filter((t) => t.word === w);
    assert.ok(ts.length >= 8, `${w}: ${ts.length} trials`);
    pat.set(w, Array.from({ length: d }, (_, k) => ts.reduce((a, t) => a + t.x[k], 0) / ts.length));
  }
  const grand = Array.from({ length: d }, (_, k) => WORD_LIST.reduce((a, w) => a + pat.get(w)![k], 0) / WORD_LIST.length);
  for (const w of WORD_LIST) pat.set(w, pat.get(w)!.map((v, k) => v - grand[k]));
  return { pat, trials: trials.map((t) => ({ word: t.word, x: t.x.map((v, k) => v - grand[k]) })) };
}

function corr(a: number[], b: number[]): number {
  const ma = a.reduce((x, y) => x + y, 0) / a.length, mb = b.reduce((x, y) => x + y, 0) / b.length;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

test('speech: the site tuning belongs to the simulated patient (profile + label), not to the recording seed', () => {
  const a = speechTuning('seeg', 'LT2'), b = speechTuning('seeg', 'LT2');
  assert.deepEqual([...a.w], [...b.w]);
  assert.notDeepEqual([...a.w], [...speechTuning('seeg', 'LT3').w]);
  // every tuned site responds to speech (non-specific share) and prefers some words over others
  for (const l of getProfile('seeg').roles!.speechHG!) {
    const t = speechTuning('seeg', l);
    const means = WORD_LIST.map((w) => {
      let s = 0, k = 0;
      for (let d = 0; d < wordDuration(w); d += 0.01, k++) s += speechResponse(t, w, d);
      return s / k;
    });
    assert.ok(Math.min(...means) >= t.common - 1e-9 && Math.max(...means) <= 1 + 1e-9, l);
    assert.ok(Math.max(...means) - Math.min(...means) > 0.1, `${l}: word means ${means.map((m) => m.toFixed(2)).join(' ')}`);
  }
});

test('speech: SEEG high gamma is word-specific — site patterns differ between words and replicate across seeds', () => {
  // Before articulatory tuning (every site following one word envelope) this gave: same-word
  // r ≈ 0.15–0.22, ≤ 7/10 words with r > 0.2, single-trial template matching ≈ 20–26 %.
  const A = wordPatterns(31), B = wordPatterns(32);
  const same = WORD_LIST.map((w) => corr(A.pat.get(w)!, B.pat.get(w)!));
  const mean = same.reduce((a, b) => a + b, 0) / same.length;
  // same word, another recording of the same simulated patient: the pattern replicates
  assert.ok(mean > 0.35, `same-word pattern correlation across seeds ${mean.toFixed(2)}`);
  assert.ok(same.filter((c) => c > 0.2).length >= 9, `same-word correlations ${same.map((c) => c.toFixed(2)).join(' ')}`);
  // different words, different patterns: each word's seed-32 pattern is closest to its own seed-31 pattern
  let top = 0;
  for (const w of WORD_LIST) {
    const row = WORD_LIST.map((v) => corr(B.pat.get(w)!, A.pat.get(v)!));
    if (row.indexOf(Math.max(...row)) === WORD_LIST.indexOf(w)) top++;
  }
  assert.ok(top >= 7, `${top}/10 words matched to their own pattern`);
  // single trials of seed 32 classified by the nearest seed-31 word template: well above chance (10 %)
  let ok = 0;
  for (const t of B.trials) {
    let best = '', bc = -Infinity;
    for (const w of WORD_LIST) {
      const c = corr(t.x, A.pat.get(w)!);
      if (c > bc) (bc = c), (best = w);
    }
    if (best === t.word) ok++;
  }
  assert.ok(ok / B.trials.length > 0.32, `cross-seed single-trial template matching ${ok}/${B.trials.length}`);
});
