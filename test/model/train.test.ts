/** The --quick training / distillation / quantisation path: runs, saves, and the loss goes down. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainCli, distillCli, quantizeCli } from '../../models/cli.ts';
import { loadCheckpoint } from '../../models/checkpoint.ts';
import { adapterSlices, nClasses, paramCount, stepMacs, studentConfig } from '../../models/diver/config.ts';
import { initWeights, toTensors } from '../../models/diver/tfmodel.ts';
import { buildDatasets } from '../../models/pipeline-data.ts';
import { initBackend, fitAdaptersToTeacher, recordingLogits } from '../../models/train/index.ts';

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
    assert.equal(se.head, 'teacher');
    // --head-only refits the adapters of the saved student and leaves its trunk alone
    const before = loadCheckpoint(join(out, 'student.json'));
    assert.equal(await distillCli(['--quick', '--out', out, '--progress=false', '--head-only', '--head', 'lda']), 0);
    const after = loadCheckpoint(join(out, 'student.json'));
    assert.equal(after.extra.head, 'lda');
    assert.deepEqual(Array.from(after.weights['tm0.qkv.w']), Array.from(before.weights['tm0.qkv.w']));
    assert.deepEqual(Array.from(after.extraWeights['distill.proj']), Array.from(before.extraWeights['distill.proj']));
    assert.notDeepEqual(Array.from(after.weights['head.w']), Array.from(before.weights['head.w']));
    assert.equal(await distillCli(['--quick', '--out', out, '--head', 'nearest']), 2);
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
  // head-fit recordings continue the transfer seeds and are never trained on
  const h = buildDatasets(studentConfig(), { seed: 3, tasks: ['mi'], trainPerTask: 1, transferPerTask: 1, headPerTask: 2, seconds: 12, testSeconds: 12, eegmmidbPretrain: false });
  assert.equal(h.train.length, 2);
  assert.equal(h.head.length, 1);
  assert.equal(h.head[0].trials.length, 0);
  assert.deepEqual(Array.from(h.train[1].frames.subarray(0, 256)), Array.from(tr.frames.subarray(0, 256)));
  assert.notDeepEqual(Array.from(h.head[0].frames.subarray(0, 256)), Array.from(tr.frames.subarray(0, 256)));
});

test('adapters fit to a teacher reproduce its class probabilities when the student shares its embedding', async () => {
  await initBackend();
  const cfg = studentConfig();
  const w = initWeights(cfg, 11);
  const teacher = { cfg, W: toTensors(cfg, w) };
  const [mi] = buildDatasets(cfg, { seed: 4, tasks: ['mi'], trainPerTask: 1, seconds: 24, testSeconds: 12, eegmmidbPretrain: false }).train;
  // a student with the teacher's trunk but a zeroed head: the ridge fit must recover the teacher's head
  const W0 = toTensors(cfg, { ...w, 'head.w': new Float32Array(w['head.w'].length), 'head.b': new Float32Array(w['head.b'].length) });
  const h = fitAdaptersToTeacher(cfg, W0, teacher, [mi], { windows: 2, ridge: 1e-9, progress: false });
  const fitted = recordingLogits(cfg, toTensors(cfg, { ...w, ...h }), mi);
  const ref = recordingLogits(cfg, teacher.W, mi);
  const K = nClasses(cfg);
  const softmax = (lg: Float32Array, f: number, a: number, b: number) => {
    const z = Array.from(lg.subarray(f * K + a, f * K + b));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((x, y) => x + y, 0);
    return e.map((v) => v / s);
  };
  for (const sl of adapterSlices(cfg)) {
    if (sl.name !== 'mi' && sl.name !== 'idle') {
      // no recordings of this paradigm: its columns keep the student's (zero) weights
      for (let c = sl.start; c < sl.end; c++) assert.equal(h['head.b'][c], 0);
      continue;
    }
    let worst = 0;
    for (let f = 16; f < mi.nFrames; f++) {
      const p = softmax(fitted, f, sl.start, sl.end);
      const q = softmax(ref, f, sl.start, sl.end);
      p.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - q[i]))));
    }
    assert.ok(worst < 1e-3, `${sl.name}: max probability difference ${worst}`);
  }
});
