/** Device profiles: montages, geometry, labels and the profile registry. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, readSync, closeSync } from 'node:fs';
import { PROFILES, getProfile, counterProfile } from '../../devices/profiles.ts';
import { normalizeEegLabel, TEN_TEN, SEEG_SPACING_MM } from '../../devices/geometry.ts';

import { dataFile } from '../helpers/data.ts';

const EDF = dataFile('eegmmidb/S001R03.edf');

/** Channel labels from an EDF header (256-byte fixed header + 16 bytes per label). */
function edfLabels(path: string): string[] {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(256);
    readSync(fd, head, 0, 256, 0);
    const ns = Number(head.subarray(252, 256).toString('ascii').trim());
    const lab = Buffer.alloc(ns * 16);
    readSync(fd, lab, 0, ns * 16, 256);
    return Array.from({ length: ns }, (_, i) => lab.subarray(i * 16, (i + 1) * 16).toString('ascii').trim());
  } finally {
    closeSync(fd);
  }
}

test('getProfile: known names, and a clear error listing the valid ones', () => {
  for (const n of ['eeg64-160', 'eeg64-500', 'seeg', 'ecog64', 'meg', 'audio16k', 'markers', 'counter']) assert.equal(getProfile(n).name, n);
  assert.throws(() => getProfile('eeg32'), (e: Error) => /unknown device profile 'eeg32'/.test(e.message) && /eeg64-160/.test(e.message) && /seeg/.test(e.message));
  assert.throws(() => getProfile('toString'), /unknown device profile/);
});

test('EEG profiles: EEGMMIDB channel order, standard 10-10 spelling, unit-sphere positions', () => {
  const edf = edfLabels(EDF).filter((l) => !/annotation/i.test(l));
  assert.equal(edf.length, 64);
  for (const name of ['eeg64-160', 'eeg64-500']) {
    const p = getProfile(name);
    assert.equal(p.srate, Number(name.split('-')[1]));
    assert.deepEqual(p.channels.map((c) => c.label), edf.map(normalizeEegLabel));
    for (const c of p.channels) {
      assert.equal(c.type, 'EEG');
      assert.equal(c.unit, 'uV');
      const r = Math.hypot(...c.pos!);
      assert.ok(Math.abs(r - 1) < 1e-3, `${c.label} not on the unit sphere`);
    }
  }
  const pos = (l: string) => TEN_TEN[l];
  assert.ok(pos('C3')[0] < -0.6 && pos('C4')[0] > 0.6, 'C3 left, C4 right');
  assert.ok(pos('Fz')[1] > 0.6 && pos('Pz')[1] < -0.6, 'Fz anterior, Pz posterior');
  assert.ok(Math.abs(pos('Cz')[2] - 1) < 1e-6, 'Cz at the vertex');
  assert.ok(pos('Iz')[2] < 0 && pos('T9')[2] < 0, 'Iz and T9 below the equator');
  // 10 % steps: neighbouring electrodes on the C row are 22.5° apart
  const ang = (a: string, b: string) => (Math.acos(pos(a).reduce((s, v, i) => s + v * pos(b)[i], 0)) * 180) / Math.PI;
  assert.ok(Math.abs(ang('C3', 'C1') - 22.5) < 0.1 && Math.abs(ang('Cz', 'Fz') - 45) < 0.1);
});

test('SEEG: ≥10 shafts × 8–16 contacts, 3.5 mm pitch, contact 1 deepest, full metadata', () => {
  const p = getProfile('seeg');
  assert.equal(p.srate, 2048);
  assert.ok(p.channels.length >= 128 && p.channels.length <= 160, `${p.channels.length} contacts`);
  const shafts = new Map<string, typeof p.channels>();
  for (const c of p.channels) {
    assert.equal(c.type, 'SEEG');
    assert.equal(c.unit, 'uV');
    assert.ok(c.shaft && c.contact && c.pos);
    assert.equal(c.label, `${c.shaft}${c.contact}`);
    shafts.set(c.shaft!, [...(shafts.get(c.shaft!) ?? []), c]);
  }
  assert.ok(shafts.size >= 10);
  for (const [name, cs] of shafts) {
    assert.ok(cs.length >= 8 && cs.length <= 16, `${name}: ${cs.length} contacts`);
    assert.deepEqual(cs.map((c) => c.contact), cs.map((_, i) => i + 1));
    for (let i = 1; i < cs.length; i++) {
      const d = Math.hypot(...cs[i].pos!.map((v, k) => v - cs[i - 1].pos![k]));
      assert.ok(Math.abs(d - SEEG_SPACING_MM) < 0.02, `${name}: spacing ${d}`);
    }
    // lateral trajectories: contact 1 is the one closest to the midline
    assert.ok(Math.abs(cs[0].pos![0]) < Math.abs(cs[cs.length - 1].pos![0]), `${name}: contact 1 must be deepest`);
  }
  for (const l of [...p.roles!.speechHG!, ...p.roles!.ripple!]) assert.ok(p.channels.some((c) => c.label === l), l);
});

test('ECoG 8×8 grid at 10 mm pitch; MEG helmet; audio; markers; counter factory', () => {
  const e = getProfile('ecog64');
  assert.equal(e.srate, 1000);
  assert.deepEqual(e.channels.map((c) => c.label), Array.from({ length: 64 }, (_, i) => `G${i + 1}`));
  const d = (a: number, b: number) => Math.hypot(...e.channels[a].pos!.map((v, k) => v - e.channels[b].pos![k]));
  for (const [a, b] of [[0, 1], [0, 8], [27, 28], [27, 35], [62, 63]]) assert.ok(Math.abs(d(a, b) - 10) < 0.6, `G${a + 1}–G${b + 1}: ${d(a, b)} mm`);
  const m = getProfile('meg');
  assert.equal(m.channels.length, 102);
  assert.ok(m.channels.every((c) => c.unit === 'fT' && c.type === 'MEG' && c.pos));
  assert.equal(new Set(m.channels.map((c) => c.label)).size, 102);
  const a = getProfile('audio16k');
  assert.equal(a.srate, 16000);
  assert.equal(a.channels.length, 1);
  const mk = getProfile('markers');
  assert.equal(mk.srate, 0);
  assert.equal(mk.format, 'string');
  const c = counterProfile(16, 4096);
  assert.equal(c.channels.length, 15);
  assert.equal(c.srate, 4096);
  assert.ok(c.counter);
  assert.equal(PROFILES.counter.channels.length, 255);
  assert.throws(() => counterProfile(0, 100), /channels/);
});
