/**
 * Pipeline parity of the motor-imagery decoders on real EEGMMIDB recordings (S001
 * R03–R06) against their reference pipelines (scripts/gen-decoder-fixtures.py: MNE CSP +
 * scikit-learn shrinkage LDA for csp / fbcsp; pyRiemann's tangent space and MDM written
 * in numpy, with scikit-learn's LogisticRegression, for ts-lr / mdm).
 *
 * On every evaluation (R03→R04, R05→R06, 5-fold CV inside each run, folds fixed in the
 * fixture, CV predictions pooled): the same prediction on ≥ 95 % of test trials and
 * balanced accuracy within 2 points of the reference. (About a minute: Karcher means of
 * 64 × 64 covariances.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClassical } from '../../src/decode/registry.ts';
import { decoderFixture, loadRun } from './eegmmidb-epochs.ts';
import { parity } from './parity.ts';

const fx = decoderFixture('eegmmidb.json');

for (const kind of ['csp', 'fbcsp', 'ts-lr', 'mdm'] as const) {
  test(`${kind}: same predictions and balanced accuracy as the reference pipeline on every split`, (t) => {
    const rows = parity(() => createClassical(kind), fx.splits, fx.results[kind], (run) => loadRun(run!));
    assert.equal(rows.length, 6);
    for (const r of rows) {
      t.diagnostic(`${r.evaluation}: ${r.trials} trials, agreement ${(100 * r.agreement).toFixed(1)} %, balanced acc. ours ${(100 * r.ours).toFixed(1)} % vs ref ${(100 * r.reference).toFixed(1)} %`);
      assert.ok(r.agreement >= 0.95, `${r.evaluation}: agreement ${r.agreement}`);
      assert.ok(Math.abs(r.ours - r.reference) <= 0.02, `${r.evaluation}: balanced accuracy ${r.ours} vs ${r.reference}`);
    }
  });
}

