/**
 * xDAWN decoders on simulated ERP epochs (fixture: 120 trials, 8 channels, 1 in 4 a
 * target) against numpy transcriptions of pyRiemann's Xdawn / XdawnCovariances with
 * scikit-learn's LDA and LogisticRegression (scripts/gen-decoder-fixtures.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stackEpochs, averageRepetitions, trial } from '../../src/decode/epochs.ts';
import { XdawnDecoder, xdawnFilters } from '../../src/decode/xdawn.ts';
import { createClassical } from '../../src/decode/registry.ts';
import { decoderFixture } from './eegmmidb-epochs.ts';
import { parity } from './parity.ts';

const fx = decoderFixture('erp.json');
const epochs = stackEpochs((fx.epochs as number[][][]).map((e) => Float64Array.from(e.flat())), fx.channels, fx.samples, fx.srate);
const labels = fx.labels as string[];

test('xDAWN filters and prototypes equal the reference (up to sign)', () => {
  const idx = fx.xdawn.train as number[];
  const f = xdawnFilters(idx.map((i) => trial(epochs, i)), idx.map((i) => labels[i]!), fx.xdawn.classes, fx.channels, fx.samples, 4);
  const ours = f.filters.flat();
  const protos = f.evokeds.flat();
  (fx.xdawn.filters as number[][]).forEach((ref, k) => {
    const w = ours[k]!;
    const dot = w.reduce((a, v, i) => a + v * ref[i]!, 0);
    assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-9, `filter ${k}: |cos| ${Math.abs(dot)} (unit norm both)`);
    const sign = Math.sign(dot);
    (fx.xdawn.evokeds[k] as number[]).forEach((v, t) => assert.ok(Math.abs(sign * protos[k]![t]! - v) < 1e-9, `prototype ${k}[${t}]`));
  });
});

for (const kind of ['xdawn-lda', 'xdawn-ts'] as const) {
  test(`${kind}: same predictions and balanced accuracy as the reference on every split`, (t) => {
    const rows = parity(() => createClassical(kind), fx.splits, fx.results[kind], () => ({ epochs, labels }));
    for (const r of rows) {
      t.diagnostic(`${r.evaluation}: ${r.trials} trials, agreement ${(100 * r.agreement).toFixed(1)} %, balanced acc. ours ${(100 * r.ours).toFixed(1)} % vs ref ${(100 * r.reference).toFixed(1)} %`);
      assert.ok(r.agreement >= 0.95, `${r.evaluation}: agreement ${r.agreement}`);
      assert.ok(Math.abs(r.ours - r.reference) <= 0.02, `${r.evaluation}: balanced accuracy ${r.ours} vs ${r.reference}`);
    }
  });
}

test('averaging repetitions (speller) raises single-trial accuracy', () => {
  // train on the first half; test on the second half, single trials vs averages of 3 same-class trials
  const tr = Array.from({ length: 60 }, (_, i) => i);
  const dec = new XdawnDecoder('xdawn-lda').fit(stackEpochs(tr.map((i) => trial(epochs, i)), 8, fx.samples, fx.srate), tr.map((i) => labels[i]!));
  const te = Array.from({ length: 60 }, (_, i) => 60 + i);
  const single = te.filter((i) => dec.predictEpoch(trial(epochs, i)).label === labels[i]).length / te.length;
  // group every 3 consecutive trials of the same class
  const seen: Record<string, number> = {};
  const groups = te.map((i) => { const l = labels[i]!; seen[l] = (seen[l] ?? 0) + 1; return `${l}:${Math.floor((seen[l]! - 1) / 3)}`; });
  const avg = averageRepetitions(stackEpochs(te.map((i) => trial(epochs, i)), 8, fx.samples, fx.srate), groups);
  const truth = avg.groups.map((g) => String(g).split(':')[0]!);
  const averaged = dec.predictEpochs(avg.epochs).filter((d, k) => d.label === truth[k]).length / truth.length;
  assert.equal(avg.epochs.trials, 20);
  // averaging is exact: the first group is the mean of its three members
  const members = te.filter((_, k) => groups[k] === avg.groups[0]);
  const m0 = trial(avg.epochs, 0);
  for (let j = 0; j < m0.length; j += 37) assert.ok(Math.abs(m0[j]! - members.reduce((a, i) => a + trial(epochs, i)[j]!, 0) / 3) < 1e-12);
  assert.ok(averaged >= single, `averaged ${averaged} < single ${single}`);
  assert.ok(averaged >= 0.9, `averaged accuracy ${averaged}`);
});
