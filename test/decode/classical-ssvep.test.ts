/**
 * SSVEP decoders on simulated epochs (fixture: 4 frequencies × 6 trials, 8 channels,
 * 250 Hz, 0.8 s): CCA correlations against scikit-learn's CCA and the QR/SVD closed form,
 * FBCCA scores (Chen et al. 2015 weights) and TRCA (Nakanishi et al. 2018) against the
 * numpy reference (scripts/gen-decoder-fixtures.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stackEpochs, trial } from '../../src/decode/epochs.ts';
import { CcaDecoder, ccaCorrelations, fbccaBands, fbccaWeights } from '../../src/decode/cca.ts';
import { bandSos } from '../../src/decode/filterbank.ts';
import { createClassical } from '../../src/decode/registry.ts';
import { decoderFixture } from './eegmmidb-epochs.ts';
import { parity } from './parity.ts';

const fx = decoderFixture('ssvep.json');
const epochs = stackEpochs((fx.epochs as number[][][]).map((e) => Float64Array.from(e.flat())), fx.channels, fx.samples, fx.srate);
const labels = fx.labels as string[];

test('CCA first canonical correlations equal scikit-learn CCA and the closed form', () => {
  (fx.cca.rho as number[][]).forEach((ref, i) => {
    const rho = ccaCorrelations(trial(epochs, i), fx.channels, fx.samples, fx.srate, fx.freqs, 3);
    ref.forEach((v, k) => {
      assert.ok(Math.abs(rho[k]! - v) < 1e-10, `trial ${i} f ${fx.freqs[k]}: ${rho[k]} vs closed form ${v}`);
      assert.ok(Math.abs(rho[k]! - fx.cca.rho_sklearn[i][k]) < 1e-6, `trial ${i} f ${fx.freqs[k]}: ${rho[k]} vs sklearn ${fx.cca.rho_sklearn[i][k]}`);
    });
  });
  const cca = new CcaDecoder('cca', { freqs: fx.freqs, labels: ['8', '10', '12', '15'] }).fit(epochs);
  assert.deepEqual(cca.predictEpochs(epochs).map((d) => d.label), fx.cca.predictions);
});

test('FBCCA sub-bands, weights and scores equal the reference', () => {
  const bands = fbccaBands(5, fx.srate);
  assert.deepEqual(bands, fx.fbcca.bands);
  fbccaWeights(5).forEach((w, i) => assert.ok(Math.abs(w - fx.fbcca.weights[i]) < 1e-15));
  bands.forEach((b, k) => bandSos(b, fx.srate).flat().forEach((v, i) => assert.ok(Math.abs(v - fx.fbcca.sos[k].flat()[i]) < 1e-12, `sub-band ${k} SOS[${i}]`)));
  const fb = new CcaDecoder('fbcca', { freqs: fx.freqs, labels: ['8', '10', '12', '15'] }).fit(epochs);
  (fx.fbcca.scores as number[][]).forEach((ref, i) => {
    const s = fb.scores(trial(epochs, i));
    ref.forEach((v, k) => assert.ok(Math.abs(s[k]! - v) < 1e-9, `trial ${i} f ${fx.freqs[k]}: ${s[k]} vs ${v}`));
  });
  assert.deepEqual(fb.predictEpochs(epochs).map((d) => d.label), fx.fbcca.predictions);
});

test('trca: same predictions and balanced accuracy as the reference on every split', (t) => {
  const rows = parity(() => createClassical('trca'), fx.splits, fx.results.trca, () => ({ epochs, labels }));
  for (const r of rows) {
    t.diagnostic(`${r.evaluation}: ${r.trials} trials, agreement ${(100 * r.agreement).toFixed(1)} %, balanced acc. ours ${(100 * r.ours).toFixed(1)} % vs ref ${(100 * r.reference).toFixed(1)} %`);
    assert.ok(r.agreement >= 0.95, `${r.evaluation}: agreement ${r.agreement}`);
    assert.ok(Math.abs(r.ours - r.reference) <= 0.02, `${r.evaluation}: balanced accuracy ${r.ours} vs ${r.reference}`);
  }
});
