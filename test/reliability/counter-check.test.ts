/** The counter check the no-loss test and bench/ingest rely on does see loss and duplicates. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterCheck } from '../helpers/counter-process.ts';

test('CounterCheck counts missing and duplicated samples', () => {
  const rows = (vals: number[]) => Float32Array.from(vals.flatMap((v) => [0.5, v]));
  const c = new CounterCheck(0);
  c.add(rows([0, 1, 2]), 2);
  c.add(rows([5, 6, 6, 7]), 2); // 3 and 4 lost, 6 repeated
  assert.deepEqual([c.received, c.missing, c.duplicated, c.expected], [7, 2, 1, 8]);
  const late = new CounterCheck();
  late.add(rows([10, 11]), 2); // no start given: the first sample sets the expectation
  assert.deepEqual([late.missing, late.duplicated], [0, 0]);
  assert.equal(new CounterCheck(0).missing, 0);
  const fromZero = new CounterCheck(0);
  fromZero.add(rows([10]), 2);
  assert.equal(fromZero.missing, 10, 'samples before the first received one count as missing');
});
