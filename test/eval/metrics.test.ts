/**
 * Metric code against hand-computed answers (worked out in the comments).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { accuracy, balancedAccuracy, bitsPerMinute, computeMetrics, confusionMatrix, macroOvrAuc, mcnemarP, rocAuc, wolpawBits } from '../../src/eval/metrics.ts';
import { parseLabelMap, eegmmidbLabelMap } from '../../src/eval/data.ts';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('confusion matrix, accuracy and balanced accuracy on a toy example', () => {
  // true a a b b c, predicted a b b b a
  const cm = confusionMatrix(['a', 'a', 'b', 'b', 'c'], ['a', 'b', 'b', 'b', 'a'], ['a', 'b', 'c']);
  assert.deepEqual(cm, [
    [1, 1, 0],
    [0, 2, 0],
    [1, 0, 0],
  ]);
  close(accuracy(cm), 3 / 5);
  close(balancedAccuracy(cm), (1 / 2 + 1 + 0) / 3);
});

test('ROC-AUC: the scikit-learn documentation example, ties, degenerate cases', () => {
  // roc_auc_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.75: positive pairs (0.35>0.1, 0.8>0.1, 0.8>0.4) = 3 of 4.
  close(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 0.75);
  // A tie counts one half.
  close(rocAuc([0.5, 0.5], [true, false]), 0.5);
  // Positives at 0.6 and 0.5, negatives at 0.5 and 0.2: pairs 1 + 1 + ½ + 1 = 3.5 of 4.
  close(rocAuc([0.6, 0.5, 0.5, 0.2], [true, true, false, false]), 3.5 / 4);
  assert.ok(Number.isNaN(rocAuc([1, 2, 3], [true, true, true])));
});

test('one-vs-rest macro AUC', () => {
  // a: positives 0.7, 0.4 vs negatives 0.3, 0.2 → 1; b: 0.4 vs 0.2, 0.3, 0.5 → 2/3; c: 0.5 vs 0.1, 0.3, 0.1 → 1.
  const probs = [
    [0.7, 0.2, 0.1],
    [0.3, 0.4, 0.3],
    [0.2, 0.3, 0.5],
    [0.4, 0.5, 0.1],
  ];
  close(macroOvrAuc(probs, ['a', 'b', 'c', 'a'], ['a', 'b', 'c']), (1 + 2 / 3 + 1) / 3);
});

test('Wolpaw ITR', () => {
  // N=2, P=0.8: 1 + 0.8 log2 0.8 + 0.2 log2 0.2 = 0.2780719051126377 bits; at 4 s/trial ×15 = 4.171078576689565 bits/min.
  close(wolpawBits(0.8, 2), 0.2780719051126377);
  close(bitsPerMinute(wolpawBits(0.8, 2), 4), 4.171078576689565);
  // N=4, P=0.7: 2 + 0.7 log2 0.7 + 0.3 log2 0.1 = 0.6432203505529607.
  close(wolpawBits(0.7, 4), 0.6432203505529607);
  close(wolpawBits(1, 4), 2);
  close(wolpawBits(0.5, 2), 0);
  close(wolpawBits(0.2, 2), 0);
});

test('computeMetrics ties it together', () => {
  const t = (label: string, pred: string, p1: number) => ({ file: 'f', onset: 0, label, pred, probs: [1 - p1, p1], frames: 1 });
  const m = computeMetrics([t('l', 'l', 0.1), t('l', 'r', 0.6), t('r', 'r', 0.9), t('r', 'r', 0.7), t('r', 'l', 0.3)], ['l', 'r'], 4);
  assert.deepEqual(m.confusion, [
    [1, 1],
    [1, 2],
  ]);
  close(m.accuracy, 0.6);
  close(m.balancedAccuracy, (0.5 + 2 / 3) / 2);
  // positives (r) 0.9, 0.7, 0.3 vs negatives 0.1, 0.6: 2 + 2 + 1 = 5 of 6.
  close(m.rocAuc, 5 / 6);
  close(m.itrBitsPerTrial, wolpawBits(0.6, 2));
});

test('label maps', () => {
  assert.deepEqual(parseLabelMap('T1=left, T2=right'), { T1: 'left', T2: 'right' });
  assert.throws(() => parseLabelMap('T1'), /not MARKER=label/);
  assert.deepEqual(eegmmidbLabelMap('/x/S001R04.edf'), { T0: 'rest', T1: 'left', T2: 'right' });
  assert.deepEqual(eegmmidbLabelMap('S001R06.edf'), { T0: 'rest', T1: 'fists', T2: 'feet' });
  assert.equal(eegmmidbLabelMap('S001R01.edf'), undefined);
});

test('exact McNemar p-value matches scipy.stats.binomtest (test/fixtures/scipy/stats.json)', () => {
  const fx = JSON.parse(readFileSync(new URL('../fixtures/scipy/stats.json', import.meta.url), 'utf8')) as { mcnemar: { b: number; c: number; p: number }[] };
  assert.ok(fx.mcnemar.length >= 8);
  for (const { b, c, p } of fx.mcnemar) close(mcnemarP(b, c), p, 1e-12 + 1e-9 * p);
  assert.equal(mcnemarP(0, 0), 1);
});
