/** The --quick training / distillation / quantisation path: runs, saves, and the loss goes down. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainCli, distillCli, quantizeCli } from '../../models/cli.ts';
import { loadCheckpoint } from '../../models/checkpoint.ts';
import { paramCount, stepMacs, studentConfig } from '../../models/diver/config.ts';
import { buildDatasets } from '../../models/pipeline-data.ts';

test('quick teacher → distill → quantize: loss decreases, artifacts written, reproducible', async () => {
  const out = mkdtempSync(join(tmpdir(), 'neurox-train-'));
  try {
    const t0 = performance.now();
    assert.equal(await trainCli(['--quick', '--out', out, '--progress=false']), 0);
    const te = JSON.parse(readFileSync(join(out, 'teacher-eval.json'), 'utf8'));
    assert.equal(te.lossCheck[0].phase, 'pretrain');
    assert.ok(te.lossCheck[0].ok, JSON.stringify(te.lossCheck));
    assert.ok(existsSync(join(out, 'teacher-loss.svg')));
    assert.match(readFileSync(join(out, 'teacher-loss.svg'), 'utf8'), /<svg[\s\S]*polyline/);
    assert.equal(await distillCli(['--quick', '--out', out, '--progress=false']), 0);
    const se = JSON.parse(readFileSync(join(out, 'student-eval.json'), 'utf8'));
    assert.ok(se.lossCheck[0].ok, JSON.stringify(se.lossCheck));
    assert.equal(await quantizeCli(['--quick', '--out', out, '--progress=false', '--eval=false']), 0);
    assert.ok(existsSync(join(out, 'diver-s.int8.onnx')));
    const t = loadCheckpoint(join(out, 'teacher.json'));
    const s = loadCheckpoint(join(out, 'student.json'));
    // the int8 twin rounds the trunk's matrices but keeps the adapter head float32
    const twin = loadCheckpoint(join(out, 'student-int8-twin.json'));
    assert.deepEqual(Array.from(twin.weights['head.w']), Array.from(s.weights['head.w']));
    assert.notDeepEqual(Array.from(twin.weights['tm0.qkv.w']), Array.from(s.weights['tm0.qkv.w']));
    // student ≥ 4× smaller in params and FLOPs/step
    assert.ok(paramCount(t.config) >= 4 * paramCount(s.config));
    assert.ok(stepMacs(t.config, 64, 64) >= 4 * stepMacs(s.config, 64, 64));
    // seeded: a second quick teacher run gives identical weights
    const out2 = mkdtempSync(join(tmpdir(), 'neurox-train2-'));
    try {
      assert.equal(await trainCli(['--quick', '--out', out2, '--progress=false']), 0);
      const t2 = loadCheckpoint(join(out2, 'teacher.json'));
      assert.deepEqual(Array.from(t2.weights['tm0.qkv.w'].subarray(0, 64)), Array.from(t.weights['tm0.qkv.w'].subarray(0, 64)));
    } finally {
      rmSync(out2, { recursive: true, force: true });
    }
    assert.ok(performance.now() - t0 < 60_000);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('model commands reject unknown options with usage', async () => {
  for (const cli of [trainCli, distillCli, quantizeCli]) assert.equal(await cli(['--no-such-option']), 2);
});

test('distillation transfer recordings carry frames but no labels, trials or idle flags', () => {
  const d = buildDatasets(studentConfig(), { seed: 3, tasks: ['mi'], trainPerTask: 1, transferPerTask: 1, seconds: 12, testSeconds: 12, eegmmidbPretrain: false });
  assert.equal(d.train.length, 2);
  const [lab, tr] = d.train;
  assert.ok(lab.trials.length > 0 && lab.labels.some((l) => l >= 0));
  assert.equal(tr.task, 'mi');
  assert.equal(tr.C, lab.C);
  assert.equal(tr.trials.length, 0);
  assert.ok(tr.labels.every((l) => l === -1) && tr.idle.every((l) => l === -1));
  // another seed: other signals
  assert.notDeepEqual(Array.from(tr.frames.subarray(0, 256)), Array.from(lab.frames.subarray(0, 256)));
});
