/** L2 logistic regression against scikit-learn's LogisticRegression(C=1) (multinomial, 3 classes). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLogReg, logRegProba } from '../../src/decode/logreg.ts';
import { decoderFixture } from './eegmmidb-epochs.ts';

const fx = decoderFixture('logreg.json');

test('multinomial coefficients, intercepts and probabilities equal scikit-learn', () => {
  const m = fitLogReg(fx.X, fx.y);
  assert.deepEqual(m.classes, fx.classes);
  (fx.coef as number[][]).forEach((row, k) => row.forEach((v, j) => assert.ok(Math.abs(m.coef[k]![j]! - v) < 1e-6, `coef[${k}][${j}]: ${m.coef[k]![j]} vs ${v}`)));
  (fx.intercept as number[]).forEach((v, k) => assert.ok(Math.abs(m.intercept[k]! - v) < 1e-6, `intercept[${k}]: ${m.intercept[k]} vs ${v}`));
  (fx.proba as number[][]).forEach((row, i) => {
    const p = logRegProba(m, fx.X[i]);
    row.forEach((v, k) => assert.ok(Math.abs(p[k]! - v) < 1e-7, `proba[${i}][${k}]`));
  });
});
