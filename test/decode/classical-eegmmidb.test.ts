/**
 * Motor-imagery decoders on real EEGMMIDB recordings (S001 R03–R06) against their
 * reference pipelines (scripts/gen-decoder-fixtures.py): MNE's CSP and scikit-learn's
 * shrinkage LDA for csp / fbcsp, numpy transcriptions of pyRiemann's tangent space and
 * MDM with scikit-learn's LogisticRegression for ts-lr / mdm.
 * Known answers here; pipeline parity on every split in parity-eegmmidb.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { butterSos } from '../../src/dsp/design.ts';
import { bandSos } from '../../src/decode/filterbank.ts';
import { CspDecoder } from '../../src/decode/csp.ts';
import { TangentSpaceDecoder } from '../../src/decode/tangent-space.ts';
import { trial } from '../../src/decode/epochs.ts';
import { decoderFixture, loadRun } from './eegmmidb-epochs.ts';

const fx = decoderFixture('eegmmidb.json');

test('EDF reader + causal filter give the same epochs as MNE + scipy', () => {
  const sosRef = fx.sos.prefilter as number[][];
  const sos = butterSos({ order: 4, cutoff: [1, 40], btype: 'bandpass', fs: 160 });
  sos.flat().forEach((v, i) => assert.ok(Math.abs(v - sosRef.flat()[i]!) < 1e-12, `prefilter SOS[${i}]`));
  bandSos([8, 30], 160).flat().forEach((v, i) => assert.ok(Math.abs(v - fx.sos.band.flat()[i]) < 1e-12, `band SOS[${i}]`));
  for (const run of [3, 4, 5, 6]) {
    const r = loadRun(run);
    const ref = fx.runs[String(run)];
    assert.deepEqual(r.onsets, ref.onsets, `R0${run} onsets`);
    assert.deepEqual(r.labels, ref.labels, `R0${run} labels`);
    assert.deepEqual(r.rawSums, ref.raw_sums, `R0${run}: raw µV samples identical`);
    const L = r.epochs.channels * r.epochs.samples;
    ref.filtered_sums.forEach((s: number, i: number) => {
      let m = 0;
      for (let k = 0; k < L; k++) m += r.epochs.data[i * L + k]!;
      assert.ok(Math.abs(m - s) < 1e-6 * Math.max(1, Math.abs(s)), `R0${run} trial ${i}: filtered sum ${m} vs ${s}`);
    });
    const first = trial(r.epochs, 0);
    (ref.filtered_first as number[][]).forEach((row, c) => row.forEach((v, t) => assert.ok(Math.abs(first[c * r.epochs.samples + t]! - v) < 1e-9, `R0${run} sample [${c}, ${t}]`)));
  }
});

test('CSP filters and log-power features equal MNE CSP(log=True, norm_trace=False)', () => {
  const r3 = loadRun(3);
  const r4 = loadRun(4);
  const csp = new CspDecoder('csp').fit(r3.epochs, r3.labels);
  const ours = csp.filters();
  (fx.csp.filters as number[][]).forEach((ref, k) => {
    const w = ours[k]!;
    const dot = w.reduce((a, v, i) => a + v * ref[i]!, 0);
    const cos = Math.abs(dot) / Math.hypot(...w) / Math.hypot(...ref);
    assert.ok(cos > 1 - 1e-9, `filter ${k}: |cos| ${cos}`);
  });
  (fx.csp.features_test as number[][]).forEach((ref, i) => {
    const f = csp.features(trial(r4.epochs, i));
    ref.forEach((v, k) => assert.ok(Math.abs(f[k]! - v) < 1e-8 * Math.max(1, Math.abs(v)), `R04 trial ${i} feature ${k}: ${f[k]} vs ${v}`));
  });
});

test('tangent-space reference, vectors and logistic-regression coefficients match the reference', () => {
  const r3 = loadRun(3);
  const d = new TangentSpaceDecoder().fit(r3.epochs, r3.labels);
  const p = d.toProfile().params;
  const refM = (fx.tangent.reference as number[][]).flat();
  const scale = Math.max(...refM.map(Math.abs));
  p.reference.forEach((v, i) => assert.ok(Math.abs(v - refM[i]!) < 1e-9 * scale, `Karcher mean[${i}]: ${v} vs ${refM[i]}`));
  (fx.tangent.vectors_first3 as number[][]).forEach((ref, i) => {
    const v = d.tangent(trial(r3.epochs, i));
    ref.forEach((x, k) => assert.ok(Math.abs(v[k]! - x) < 1e-7, `tangent ${i}[${k}]: ${v[k]} vs ${x}`));
  });
  assert.deepEqual(p.logreg.classes, fx.tangent.lr_classes);
  const coef = p.logreg.coef[0]!;
  const refC = fx.tangent.lr_coef as number[];
  const cmax = Math.max(...refC.map(Math.abs));
  coef.forEach((v, i) => assert.ok(Math.abs(v - refC[i]!) < 1e-5 * cmax, `LR coef[${i}]: ${v} vs ${refC[i]}`));
  assert.ok(Math.abs(p.logreg.intercept[0]! - fx.tangent.lr_intercept) < 1e-5 * Math.max(1, cmax), `intercept ${p.logreg.intercept[0]} vs ${fx.tangent.lr_intercept}`);
});

test('the FBCSP filter bank equals scipy butter(4, band, output="sos")', () => {
  (fx.epoch.fbcsp_bands as [number, number][]).forEach((b, k) => {
    bandSos(b, 160).flat().forEach((v, i) => assert.ok(Math.abs(v - fx.sos.fbcsp[k].flat()[i]) < 1e-12, `FBCSP band ${k} SOS[${i}]`));
  });
});
