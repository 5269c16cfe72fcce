/**
 * Physiology checks on simulated recordings with a small Goertzel DFT (spectral.ts):
 * occipital alpha peak, contralateral mu ERD in motor imagery, P300 to targets, SSVEP
 * at the cued frequency, speech-locked high gamma on SEEG, hippocampal ripples, and
 * mains interference at 50/60 Hz with harmonics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateRecording, type Recording } from '../../devices/signal-model.ts';
import { bandPower, column, goertzel, mean, welch } from './spectral.ts';

const idx = (r: Recording, label: string): number => {
  const i = r.channels.findIndex((c) => c.label === label);
  assert.ok(i >= 0, `no channel ${label}`);
  return i;
};
const nSamples = (r: Recording): number => r.data.length / r.channels.length;

test('alpha: spectral peak at 8–12 Hz on occipital channels, much weaker frontally', () => {
  const r = generateRecording('eeg64-160', 'rest', 3, 60, { artifacts: false });
  const C = r.channels.length, fs = r.srate;
  const spec = (l: string, f: number): number => welch(column(r.data, C, idx(r, l)), fs, f, 2);
  const peak = (l: string): number => Math.max(...[8.5, 9, 9.5, 10, 10.5, 11, 11.5].map((f) => spec(l, f)));
  for (const l of ['O1', 'Oz', 'O2']) {
    const p = peak(l);
    const flank = (spec(l, 5) + spec(l, 6) + spec(l, 15) + spec(l, 16)) / 4;
    assert.ok(p > 4 * flank, `${l}: alpha peak ${p.toFixed(2)} vs flanks ${flank.toFixed(2)}`);
  }
  assert.ok(peak('Oz') > 5 * peak('Fp1'), 'alpha must be occipital');
});

test('rest paradigm: eyes closed raises occipital alpha', () => {
  const r = generateRecording('eeg64-160', 'rest', 4, 90, { artifacts: false, schedule: { cueSec: 10 } });
  const C = r.channels.length, fs = r.srate, oz = idx(r, 'Oz');
  const pow: Record<string, number[]> = { 'eyes-open': [], 'eyes-closed': [] };
  for (const e of r.events) {
    const cls = e.label.replace('rest:', '');
    if (!(cls in pow) || e.sampleIndex + 10 * fs > nSamples(r)) continue;
    pow[cls].push(bandPower(column(r.data, C, oz, e.sampleIndex + 2 * fs, e.sampleIndex + 10 * fs), fs, 8, 12, 0.5));
  }
  assert.ok(pow['eyes-open'].length >= 2 && pow['eyes-closed'].length >= 2);
  assert.ok(mean(pow['eyes-closed']) > 2.5 * mean(pow['eyes-open']), 'Berger effect');
});

test('motor imagery: contralateral mu desynchronisation (C3/C4 ratio flips between left and right)', () => {
  const r = generateRecording('eeg64-160', 'mi', 7, 140, { artifacts: false, schedule: { calibTrials: 10 } });
  const C = r.channels.length, fs = r.srate;
  const c3 = idx(r, 'C3'), c4 = idx(r, 'C4');
  const ratio: Record<string, number[]> = { left: [], right: [] };
  const drop: number[] = [];
  for (const e of r.events) {
    if (!e.label.startsWith('mi:')) continue;
    const i0 = e.sampleIndex + fs, i1 = e.sampleIndex + 4 * fs;
    if (i1 + 2 * fs > nSamples(r)) continue;
    const mu = (c: number, a: number, b: number): number => bandPower(column(r.data, C, c, a, b), fs, 8, 14, 0.5);
    const p3 = mu(c3, i0, i1), p4 = mu(c4, i0, i1);
    ratio[e.label.slice(3)].push(Math.log(p3 / p4));
    // contralateral amplitude drop vs the same channel in the preceding 2 s (rest)
    const contra = e.label === 'mi:left' ? c4 : c3;
    if (e.sampleIndex - 2 * fs > 0) drop.push(Math.sqrt(mu(contra, i0, i1) / mu(contra, e.sampleIndex - 2 * fs, e.sampleIndex)));
  }
  assert.ok(ratio.left.length >= 8 && ratio.right.length >= 8);
  const l = mean(ratio.left), rr = mean(ratio.right);
  assert.ok(l > 0.3, `left imagery: C4 desynchronised, log(C3/C4) = ${l.toFixed(2)}`);
  assert.ok(rr < -0.3, `right imagery: C3 desynchronised, log(C3/C4) = ${rr.toFixed(2)}`);
  // per-trial separability: most trials on the right side of zero
  const correct = ratio.left.filter((x) => x > 0).length + ratio.right.filter((x) => x < 0).length;
  assert.ok(correct / (ratio.left.length + ratio.right.length) > 0.8, `trial-wise separability ${correct}`);
  const d = mean(drop);
  assert.ok(d < 0.85 && d > 0.4, `contralateral mu amplitude ratio task/rest = ${d.toFixed(2)}`);
});

test('P300: positive deflection ~300 ms at Pz for targets only', () => {
  const r = generateRecording('eeg64-160', 'p300', 5, 120, { artifacts: false, schedule: { calibTrials: 10 } });
  const C = r.channels.length, fs = r.srate, pz = idx(r, 'Pz');
  const avg = (label: string): number => {
    const vals: number[] = [];
    for (const e of r.events) {
      if (e.label !== label) continue;
      const i = e.sampleIndex;
      if (i < 16 || i + fs > nSamples(r)) continue;
      let base = 0;
      for (let k = -16; k < 0; k++) base += r.data[(i + k) * C + pz];
      base /= 16;
      const a = Math.round(0.25 * fs), b = Math.round(0.4 * fs);
      let w = 0;
      for (let k = a; k < b; k++) w += r.data[(i + k) * C + pz];
      vals.push(w / (b - a) - base);
    }
    assert.ok(vals.length >= 15, `${label}: ${vals.length} epochs`);
    return mean(vals);
  };
  const t = avg('p300:target'), n = avg('p300:nontarget');
  assert.ok(t - n > 3, `target ${t.toFixed(2)} µV vs nontarget ${n.toFixed(2)} µV`);
  assert.ok(Math.abs(n) < 2.5, `nontarget should be flat at Pz (${n.toFixed(2)} µV)`);
});

test('SSVEP: occipital response at the cued frequency and harmonics', () => {
  const r = generateRecording('eeg64-160', 'ssvep', 11, 70, { artifacts: false, schedule: { calibTrials: 2 } });
  const C = r.channels.length, fs = r.srate, oz = idx(r, 'Oz');
  const freqs = [8.57, 10, 12, 15];
  const occ = ['O1', 'Oz', 'O2'].map((l) => idx(r, l));
  const trials: { cls: string; p: number[]; p2: number[]; h: boolean }[] = [];
  for (const e of r.events) {
    if (!e.label.startsWith('ssvep:')) continue;
    const i0 = e.sampleIndex + Math.round(0.5 * fs), i1 = e.sampleIndex + 4 * fs;
    if (i1 > nSamples(r)) continue;
    const xs = occ.map((c) => column(r.data, C, c, i0, i1));
    const pw = (f: number): number => xs.reduce((a, x) => a + goertzel(x, fs, f), 0);
    const f = Number(e.label.slice(6));
    trials.push({
      cls: e.label.slice(6),
      p: freqs.map((g) => pw(g)),
      p2: freqs.map((g) => pw(2 * g)),
      h: pw(2 * f) > (3 * (pw(2 * f - 1.5) + pw(2 * f + 1.5))) / 2,
    });
  }
  // score = power at a candidate frequency (and its 2nd harmonic) relative to its mean
  // over all trials — a filter-bank-style detector, robust to the alpha rhythm at 10 Hz
  const base = freqs.map((_, k) => mean(trials.map((t) => t.p[k])));
  const base2 = freqs.map((_, k) => mean(trials.map((t) => t.p2[k])));
  let ok = 0, harm = 0;
  const n = trials.length;
  for (const t of trials) {
    const score = t.p.map((v, k) => v / base[k] + t.p2[k] / base2[k]);
    if (String(freqs[score.indexOf(Math.max(...score))]) === t.cls) ok++;
    if (t.h) harm++;
  }
  assert.ok(n >= 7, `${n} trials`);
  assert.ok(ok / n >= 0.85, `cued frequency wins in ${ok}/${n} trials`);
  assert.ok(harm / n >= 0.6, `2nd harmonic visible in ${harm}/${n} trials`);
});

test('SEEG: high-gamma (70–150 Hz) rises on speech-tied contacts during speech; ripples on hippocampal contacts', () => {
  const r = generateRecording('seeg', 'speech', 2, 40, { artifacts: false, annotate: true });
  const C = r.channels.length, fs = r.srate;
  const on = r.events.filter((e) => e.label.startsWith('truth:speech-onset/'));
  const off = r.events.filter((e) => e.label.startsWith('truth:speech-offset/'));
  const hgRatio = (label: string): number => {
    const c = idx(r, label);
    const sp: number[] = [], rest: number[] = [];
    for (let i = 0; i < Math.min(on.length, off.length); i++) {
      const a = on[i].sampleIndex, b = off[i].sampleIndex;
      if (b + 2 * fs > nSamples(r)) continue;
      sp.push(bandPower(column(r.data, C, c, a, b), fs, 70, 150, 5));
      rest.push(bandPower(column(r.data, C, c, b + fs, b + fs + (b - a)), fs, 70, 150, 5));
    }
    assert.ok(sp.length >= 5);
    return mean(sp) / mean(rest);
  };
  // Each speech site is tuned to a few articulatory features (signal-model.ts, speechTuning), so
  // its increase depends on the word: a fricative-tuned site (LT2) rises less on average than
  // one tuned to jaw opening (LT10). Realistic sizes: tens of percent to a few-fold.
  const sp = ['LT2', 'LT10', 'LPI2'].map((l) => [l, hgRatio(l)] as const);
  for (const [l, v] of sp) assert.ok(v > 1.6 && v < 8, `${l}: HG speech/rest ${v.toFixed(2)}`);
  assert.ok(mean(sp.map(([, v]) => v)) > 2, `mean HG speech/rest ${mean(sp.map(([, v]) => v)).toFixed(2)}`);
  for (const l of ['LOF6', 'LA3', 'RA5']) assert.ok(hgRatio(l) < 1.3, `${l}: control contact HG ratio ${hgRatio(l).toFixed(2)}`);

  const rip = r.events.filter((e) => e.label.startsWith('truth:ripple/'));
  assert.ok(rip.length >= 5, `${rip.length} ripples`);
  const site = rip[0].label.split('/')[1];
  const c = idx(r, site);
  const w = Math.round(0.1 * fs);
  const inRip: number[] = [], ctrl: number[] = [];
  for (const e of rip) {
    if (!e.label.endsWith(site) || e.sampleIndex + 3 * w > nSamples(r)) continue;
    inRip.push(bandPower(column(r.data, C, c, e.sampleIndex, e.sampleIndex + w), fs, 90, 190, 10));
    ctrl.push(bandPower(column(r.data, C, c, e.sampleIndex + 2 * w, e.sampleIndex + 3 * w), fs, 90, 190, 10));
  }
  assert.ok(mean(inRip) > 3 * mean(ctrl), `ripple band power ${mean(inRip).toFixed(3)} vs ${mean(ctrl).toFixed(3)}`);
});

test('mains interference at 50 Hz (or 60 Hz) with harmonics', () => {
  for (const lineFreq of [50, 60] as const) {
    const r = generateRecording('eeg64-500', 'rest', 1, 8, { lineFreq, artifacts: { line: true, blinks: false, pops: false, drift: false } });
    const C = r.channels.length, fs = r.srate;
    const x = column(r.data, C, idx(r, 'Cz'));
    for (const k of [1, 2, 3]) {
      const f = k * lineFreq;
      const p = welch(x, fs, f, 2);
      const nb = (welch(x, fs, f - 4, 2) + welch(x, fs, f + 4, 2)) / 2;
      assert.ok(p > 8 * nb, `${lineFreq} Hz mains, harmonic ${k}: ${p.toExponential(2)} vs ${nb.toExponential(2)}`);
    }
    const other = lineFreq === 50 ? 60 : 50;
    assert.ok(welch(x, fs, other, 2) < welch(x, fs, lineFreq, 2) / 100);
  }
  const clean = generateRecording('eeg64-500', 'rest', 1, 8, { artifacts: false });
  const x = column(clean.data, clean.channels.length, idx(clean, 'Cz'));
  assert.ok(welch(x, 500, 50, 2) < 3 * (welch(x, 500, 46, 2) + welch(x, 500, 54, 2)) / 2, 'no mains when artifacts are off');
});

test('ECoG: right-hand imagery raises high gamma over the (left) hand area', () => {
  const r = generateRecording('ecog64', 'mi', 100, 70, { artifacts: false, schedule: { calibTrials: 5 } });
  const C = r.channels.length, fs = r.srate, g = idx(r, 'G12');
  const hg: Record<string, number[]> = { left: [], right: [] };
  const base: number[] = [];
  const win = Math.round(1.2 * fs);
  for (const e of r.events) {
    if (!e.label.startsWith('mi:') || e.sampleIndex + 4 * fs > nSamples(r)) continue;
    const i = e.sampleIndex;
    hg[e.label.slice(3)].push(bandPower(column(r.data, C, g, i + 2 * fs, i + 2 * fs + win), fs, 70, 150, 5));
    base.push(bandPower(column(r.data, C, g, i - win, i), fs, 70, 150, 5)); // equal-length pre-cue window
  }
  assert.ok(mean(hg.right) > 1.8 * mean(base), `right/base ${(mean(hg.right) / mean(base)).toFixed(2)}`);
  assert.ok(mean(hg.right) > 1.5 * mean(hg.left), 'contralateral (right-hand) imagery dominates');
});

test('speech paradigm: audio16k and seeg share one schedule; audio is voiced during the words', () => {
  const a = generateRecording('audio16k', 'speech', 2, 20, { annotate: true });
  const s = generateRecording('seeg', 'speech', 2, 20, { annotate: true, artifacts: false });
  const onA = a.events.filter((e) => e.label.startsWith('truth:speech-onset/'));
  const onS = s.events.filter((e) => e.label.startsWith('truth:speech-onset/'));
  assert.ok(onA.length >= 3);
  assert.deepEqual(onA.map((e) => e.label), onS.map((e) => e.label));
  for (let i = 0; i < onA.length; i++) assert.ok(Math.abs(onA[i].t - onS[i].t) < 1e-3);
  const offA = a.events.filter((e) => e.label.startsWith('truth:speech-offset/'));
  let sp = 0, n1 = 0, q = 0, n2 = 0;
  for (let i = 0; i < Math.min(onA.length, offA.length); i++) {
    for (let k = onA[i].sampleIndex; k < offA[i].sampleIndex; k++) (sp += a.data[k] ** 2), n1++;
    for (let k = offA[i].sampleIndex + 8000; k < Math.min(a.data.length, offA[i].sampleIndex + 12000); k++) (q += a.data[k] ** 2), n2++;
  }
  const rs = Math.sqrt(sp / n1), rq = Math.sqrt(q / n2);
  assert.ok(rs > 20 * rq, `speech rms ${rs.toFixed(4)} vs silence ${rq.toFixed(4)}`);
  let peak = 0;
  for (const v of a.data) peak = Math.max(peak, Math.abs(v));
  assert.ok(peak < 1, `audio within full scale (peak ${peak})`);
  // voiced: at the centre of each word, energy at the pitch (f0 100–140 Hz), little at 6 kHz
  for (let i = 0; i < Math.min(onA.length, offA.length); i++) {
    const c = Math.round((onA[i].sampleIndex + offA[i].sampleIndex) / 2) - 1024;
    const seg = Array.from(a.data.subarray(c, c + 2048));
    const pitch = Math.max(...[100, 105, 110, 115, 120, 125, 130, 135, 140].map((f) => goertzel(seg, 16000, f)));
    assert.ok(pitch > 10 * goertzel(seg, 16000, 6000), `${onA[i].label}: voiced energy at the pitch`);
  }
});
