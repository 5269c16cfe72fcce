/**
 * Offline evaluation end to end: EEGMMIDB motor imagery in the three documented
 * settings (figures printed, sanity asserted — not accuracy), and the P300 / SSVEP
 * paths on simulated recordings written to EDF+ and XDF (where the simulator's
 * effects are strong, so the decoders must beat chance clearly).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeEdf } from '../../adapters/edf/index.ts';
import { XdfWriter } from '../../adapters/xdf/index.ts';
import { generateRecording } from '../../devices/signal-model.ts';
import { evaluate } from '../../src/eval/evaluate.ts';
import { textReport } from '../../src/eval/report.ts';
import { dataFile } from '../formats/helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/neurox.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'neurox-eval-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function sane(m: { accuracy: number; balancedAccuracy: number; rocAuc: number; confusion: number[][]; trials: number; itrBitsPerTrial: number }, trials: number) {
  assert.equal(m.trials, trials);
  assert.equal(m.confusion.flat().reduce((a, b) => a + b, 0), trials);
  for (const v of [m.accuracy, m.balancedAccuracy, m.rocAuc]) assert.ok(v >= 0 && v <= 1, String(v));
  assert.ok(m.itrBitsPerTrial >= 0 && m.itrBitsPerTrial <= 1);
}

test('EEGMMIDB S001: CV in R04, R03 → R04, CV in R06', { timeout: 60_000 }, async (t) => {
  const r03 = dataFile('eegmmidb/S001R03.edf');
  const r04 = dataFile('eegmmidb/S001R04.edf');
  const r06 = dataFile('eegmmidb/S001R06.edf');
  const a = await evaluate({ paradigm: 'mi', train: [r04], cv: 5 });
  t.diagnostic(`(a) CV within R04, imagined left vs right:\n${textReport(a)}`);
  assert.deepEqual(a.metrics.classes, ['left', 'right']);
  sane(a.metrics, 15);
  const b = await evaluate({ paradigm: 'mi', train: [r03], test: [r04] });
  t.diagnostic(`(b) train R03 (executed) → test R04 (imagined):\n${textReport(b)}`);
  sane(b.metrics, 15);
  const c = await evaluate({ paradigm: 'mi', train: [r06], cv: 5 });
  t.diagnostic(`(c) CV within R06, imagined fists vs feet:\n${textReport(c)}`);
  assert.deepEqual(c.metrics.classes, ['feet', 'fists']);
  sane(c.metrics, 15);
  // An explicit label map overrides the file-name mapping; rest can be a class.
  const d = await evaluate({ paradigm: 'mi', train: [r04], cv: 3, labelMap: { T0: 'rest', T1: 'L', T2: 'R' }, classes: ['L', 'R', 'rest'] });
  assert.deepEqual(d.metrics.classes, ['L', 'R', 'rest']);
  assert.equal(d.metrics.trials, 30);
});

test('neurox evaluate CLI: text, JSON and SVG plot', { timeout: 60_000 }, () => {
  const r04 = dataFile('eegmmidb/S001R04.edf');
  const svg = join(dir, 'r04.svg');
  const p = spawnSync(process.execPath, [BIN, 'evaluate', '--train', r04, '--paradigm', 'mi', '--cv', '5', '--json', '--plot', svg], { encoding: 'utf8', timeout: 50_000 });
  assert.equal(p.status, 0, p.stderr);
  const j = JSON.parse(p.stdout);
  assert.equal(j.metrics.trials, 15);
  assert.equal(j.trials.length, 15);
  assert.ok('left' in j.trials[0].probs);
  const s = readFileSync(svg, 'utf8');
  assert.match(s, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((s.match(/<circle /g) ?? []).length, 15 + 2, 'one point per trial + legend');
});

test('simulated P300 (EDF+) and SSVEP (XDF) recordings decode above chance', { timeout: 60_000 }, async (t) => {
  // P300 → EDF+ with the cue markers as annotations.
  const p3 = generateRecording('eeg64-160', 'p300', 7, 150, { artifacts: false });
  const C = p3.channels.length;
  const N = p3.data.length / C;
  const edf = join(dir, 'p300.edf');
  writeEdf(edf, {
    signals: p3.channels.map((ch, c) => ({ label: ch.label, srate: p3.srate, samples: Float64Array.from({ length: N }, (_, i) => p3.data[i * C + c]!), physicalDimension: 'uV' })),
    annotations: p3.events.map((e) => ({ onset: e.t, duration: 0, text: e.label })),
  });
  const rp = await evaluate({ paradigm: 'p300', train: [edf], cv: 5 });
  t.diagnostic(`simulated P300, 5-fold CV:\n${textReport(rp)}`);
  assert.deepEqual(rp.metrics.classes, ['nontarget', 'target']);
  assert.ok(rp.metrics.rocAuc > 0.65, `P300 AUC ${rp.metrics.rocAuc}`);

  // SSVEP → XDF (signal + marker stream), as the recorder writes it.
  const ss = generateRecording('eeg64-160', 'ssvep', 8, 150, { artifacts: false });
  const xdf = join(dir, 'ssvep.xdf');
  const w = await XdfWriter.open(xdf);
  const sid = w.addStream({ info: { name: 'sim', type: 'EEG', channel_count: ss.channels.length, nominal_srate: ss.srate, channel_format: 'float32', channels: ss.channels.map((c) => ({ label: c.label, type: c.type })) } });
  const mid = w.addStream({ info: { name: 'sim-markers', type: 'Markers', channel_count: 1, nominal_srate: 0, channel_format: 'string' } });
  const t0 = 1000;
  const n = ss.data.length / ss.channels.length;
  let tt = t0;
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) (ts[i] = tt), (tt += 1 / ss.srate);
  w.appendSamples(sid, ss.data, ts, ss.channels.length);
  w.appendSamples(mid, ss.events.map((e) => e.label), Float64Array.from(ss.events, (e) => t0 + e.t), 1);
  await w.close();
  const rs = await evaluate({ paradigm: 'ssvep', train: [xdf], cv: 5 });
  t.diagnostic(`simulated SSVEP, 5-fold CV:\n${textReport(rs)}`);
  assert.equal(rs.metrics.classes.length, 4);
  assert.ok(rs.metrics.accuracy > 0.5, `SSVEP accuracy ${rs.metrics.accuracy} (chance 0.25)`);
});
