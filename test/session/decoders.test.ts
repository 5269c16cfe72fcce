/**
 * Every decoder through the same calls: profiles round-trip for the baseline and
 * DIVER-S (a changed model file is refused), and `neurox evaluate --decoder
 * diver-s` scores the real EEGMMIDB run through the model frame by frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BaselineDecoder } from '../../src/decode/baseline.ts';
import { BaselineFrameDecoder } from '../../src/decode/frame-decoder.ts';
import { loadProfile, modelDecoder } from '../../src/decode/profile.ts';
import { writeProfile } from '../../src/session/run.ts';
import { BIN, ROOT } from '../helpers/runtime.ts';

const MODEL = 'models/diver-s.int8.onnx';

test('profiles round-trip for DIVER-S and the baseline; a changed model is refused', { timeout: 60000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'neurox-prof-'));
  try {
    const model = join(dir, 'm.onnx');
    copyFileSync(MODEL, model);
    const d = await modelDecoder(model, 'mi');
    const prof = join(dir, 'diver.json');
    writeProfile(prof, d.profile());
    await d.close();
    const saved = JSON.parse(readFileSync(prof, 'utf8')) as Record<string, unknown>;
    assert.equal(saved.kind, 'neurox-model-profile');
    assert.equal(saved.paradigm, 'mi');
    assert.match(String(saved.sha256), /^[0-9a-f]{64}$/);
    assert.deepEqual(saved.labels, ['left', 'right']);
    const back = await loadProfile(prof);
    assert.equal(back.name, 'diver-s:mi');
    assert.ok(back.ready);
    assert.deepEqual(back.labels, ['left', 'right']);
    await back.close();
    const bytes = readFileSync(model);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(model, bytes);
    await assert.rejects(loadProfile(prof), /has changed since the profile was saved/);

    const labels = ['C3', 'C4', 'Cz'];
    const b = new BaselineDecoder();
    const X = Array.from({ length: 40 }, (_, i) => Float64Array.from({ length: labels.length * 2 }, (_, k) => Math.sin(i * 3 + k) + (i % 2)));
    b.calibrate(X, X.map((_, i) => (i % 2 ? 'left' : 'right')), labels, 160);
    const bp = join(dir, 'base.json');
    writeProfile(bp, new BaselineFrameDecoder(b).profile()!);
    const bb = (await loadProfile(bp)) as BaselineFrameDecoder;
    assert.ok(bb.ready);
    assert.deepEqual(bb.inner.decodeFeatures(X[3]!), b.decodeFeatures(X[3]!));
    writeFileSync(join(dir, 'bad.json'), '{"kind":"something-else"}');
    await assert.rejects(loadProfile(join(dir, 'bad.json')), /not a neurox decoder profile/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('neurox evaluate --decoder diver-s on the real EEGMMIDB run', { timeout: 120000 }, () => {
  const r = spawnSync(process.execPath, [BIN, 'evaluate', '--decoder', 'diver-s', '--paradigm', 'mi', '--train', 'test/data/eegmmidb/S001R04.edf', '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 100000 });
  assert.equal(r.status, 0, r.stderr.slice(-1000));
  const j = JSON.parse(r.stdout) as { metrics: { accuracy: number; trials: number }; trials: unknown[] };
  assert.equal(j.trials.length, 15, 'every trial of the run scored');
  assert.ok(j.metrics.accuracy >= 0 && j.metrics.accuracy <= 1);
  const bad = spawnSync(process.execPath, [BIN, 'evaluate', '--decoder', 'nope', '--train', 'x.edf'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--decoder: expected baseline or diver-s/);
});
