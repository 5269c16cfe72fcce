/** A calibrated decoder saved as a profile and loaded back decides exactly the same. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRecording } from '../../devices/signal-model.ts';
import { BaselineDecoder } from '../../src/decode/baseline.ts';
import { fitLda, predictLda } from '../../src/decode/lda.ts';
import { calibrateFromRecording } from '../../src/session/calibrate.ts';
import { recordingFrames } from '../../src/session/offline.ts';

test('profile save → load gives identical probabilities', () => {
  const rec = generateRecording('eeg64-160', 'mi', 21, 120);
  const dec = calibrateFromRecording(generateRecording('eeg64-160', 'mi', 20, 260), { calibration: { paradigm: 'mi' } });
  const path = join(mkdtempSync(join(tmpdir(), 'neurox-prof-')), 'p.json');
  dec.save(path);
  const back = BaselineDecoder.load(path);
  let n = 0;
  for (const f of recordingFrames(rec)) {
    const a = dec.features(f);
    const b = back.features(f);
    if (!a || !b) continue;
    assert.deepEqual(back.decodeFeatures(b), dec.decodeFeatures(a));
    if (++n > 200) break;
  }
  assert.ok(n > 100);
});

test('loading a file that is not a profile names the file and the problem', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'neurox-prof-')), 'bad.json');
  writeFileSync(path, '{"kind":"something-else"}');
  assert.throws(() => BaselineDecoder.load(path), /bad\.json is not a neurox baseline profile/);
  assert.throws(() => BaselineDecoder.load(path + '.missing'), /cannot read decoder profile .*bad\.json\.missing/);
});

test('shrinkage LDA separates two Gaussian classes and stays well-posed with more features than trials', () => {
  // Two classes differing in the mean of the first feature; 40 features, 20 trials each.
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const X: number[][] = [];
  const y: string[] = [];
  for (let i = 0; i < 40; i++) {
    const cls = i % 2 ? 'b' : 'a';
    X.push(Array.from({ length: 40 }, (_, k) => gauss() + (k === 0 ? (cls === 'a' ? -2 : 2) : 0)));
    y.push(cls);
  }
  const m = fitLda(X, y);
  assert.ok(m.shrinkage > 0 && m.shrinkage <= 1, `shrinkage ${m.shrinkage}`);
  const pa = predictLda(m, [-2, ...Array(39).fill(0)]);
  const pb = predictLda(m, [2, ...Array(39).fill(0)]);
  assert.ok(pa[0]! > 0.75 && pb[1]! > 0.75, `probabilities ${pa} ${pb}`);
  assert.throws(() => fitLda([[1], [2]], ['a', 'a']), /at least 2 classes/);
});
