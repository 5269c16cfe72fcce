/**
 * The baseline decoder (log band power + shrinkage LDA) on the simulated motor-imagery
 * task: calibrated on one simulated session, scored on a different seed's session.
 *
 * Threshold: 2 balanced classes → chance is 50 %. With the 40 held-out trials used
 * here, the one-sided 99.9 % upper limit of chance-level trial accuracy is about
 * 50 % + 3.09·√(0.25/40) ≈ 74 % (normal approximation of the binomial), so
 * requiring ≥ 80 % per trial is well above chance, and per-frame accuracy (frames are
 * correlated, so no binomial bound applies) must exceed 65 %.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateRecording } from '../../devices/signal-model.ts';
import { calibrateFromRecording } from '../../src/session/calibrate.ts';
import { recordingFrames } from '../../src/session/offline.ts';
import { CalibrationCollector } from '../../src/decode/calibration.ts';

test('baseline decoder: held-out simulated MI accuracy is well above chance', (t) => {
  const train = generateRecording('eeg64-160', 'mi', 11, 280);
  const dec = calibrateFromRecording(train, { calibration: { paradigm: 'mi' } });
  assert.deepEqual(dec.labels, ['left', 'right']);

  const testRec = generateRecording('eeg64-160', 'mi', 12, 280);
  const col = new CalibrationCollector({ paradigm: 'mi' });
  const perTrial = new Map<number, { truth: string; votes: Record<string, number> }>();
  let frames = 0;
  let frameOk = 0;
  const cues = testRec.events.filter((e) => e.label.startsWith('mi:'));
  for (const f of recordingFrames(testRec)) {
    const label = col.observe(f);
    if (!label) continue;
    const x = dec.features(f);
    if (!x) continue;
    const d = dec.decodeFeatures(x);
    frames++;
    if (d.label === label) frameOk++;
    const trial = cues.filter((c) => c.t <= f.tEnd).length - 1;
    const e = perTrial.get(trial) ?? { truth: label, votes: {} };
    e.votes[d.label] = (e.votes[d.label] ?? 0) + Math.log(d.confidence + 1e-9) - Math.log(1 - d.confidence + 1e-9);
    perTrial.set(trial, e);
  }
  let trialOk = 0;
  for (const e of perTrial.values()) {
    const best = Object.entries(e.votes).sort((a, b) => b[1] - a[1])[0]![0];
    if (best === e.truth) trialOk++;
  }
  const frameAcc = frameOk / frames;
  const trialAcc = trialOk / perTrial.size;
  t.diagnostic(`held-out MI: ${perTrial.size} trials, trial accuracy ${(trialAcc * 100).toFixed(1)} %, frame accuracy ${(frameAcc * 100).toFixed(1)} % over ${frames} frames`);
  assert.ok(perTrial.size >= 30, `expected ≥30 held-out trials, got ${perTrial.size}`);
  assert.ok(trialAcc >= 0.8, `trial accuracy ${trialAcc}`);
  assert.ok(frameAcc >= 0.65, `frame accuracy ${frameAcc}`);
});
