/**
 * The classical decoders' contract beyond the known answers: bad input fails with an
 * error naming the problem (class, trial, channel), every decoder survives a JSON
 * profile round trip with identical outputs, and the streaming form (the framer's
 * samples × channels window) gives exactly what the offline epoch gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stackEpochs, selectEpochs, trial, type Epochs } from '../../src/decode/epochs.ts';
import { CLASSICAL_KINDS, type ClassicalKind } from '../../src/decode/classical.ts';
import { classicalFromProfile, createClassical } from '../../src/decode/registry.ts';
import { decoderFixture, loadRun } from './eegmmidb-epochs.ts';

const erp = decoderFixture('erp.json');
const ssvep = decoderFixture('ssvep.json');
const toEpochs = (fx: any): Epochs => stackEpochs((fx.epochs as number[][][]).map((e) => Float64Array.from(e.flat())), fx.channels, fx.samples, fx.srate, Array.from({ length: fx.channels }, (_, i) => `E${i + 1}`));
const erpX = toEpochs(erp);
const ssX = toEpochs(ssvep);

/** A small real motor-imagery set: 8 channels of EEGMMIDB R03. */
function miSet(): { X: Epochs; y: string[] } {
  const r = loadRun(3);
  const picks = [8, 9, 10, 11, 12, 13, 14, 15];
  const N = r.epochs.samples;
  const trials = Array.from({ length: r.epochs.trials }, (_, i) => {
    const t = trial(r.epochs, i);
    const x = new Float64Array(picks.length * N);
    picks.forEach((c, k) => x.set(t.subarray(c * N, (c + 1) * N), k * N));
    return x;
  });
  return { X: stackEpochs(trials, picks.length, N, r.epochs.srate, picks.map((c) => r.epochs.channelLabels![c]!)), y: r.labels };
}

function setFor(kind: ClassicalKind): { X: Epochs; y: string[]; opts: Record<string, unknown> } {
  if (kind === 'xdawn-lda' || kind === 'xdawn-ts') return { X: erpX, y: erp.labels, opts: {} };
  if (kind === 'cca' || kind === 'fbcca' || kind === 'trca') return { X: ssX, y: ssvep.labels, opts: { freqs: ssvep.freqs, labels: ['8', '10', '12', '15'] } };
  return { ...miSet(), opts: {} };
}

for (const kind of CLASSICAL_KINDS) {
  test(`${kind}: profile round trip and streaming window give identical outputs`, () => {
    const { X, y, opts } = setFor(kind);
    const dec = createClassical(kind, opts).fit(X, y);
    const back = classicalFromProfile(JSON.parse(JSON.stringify(dec.toProfile())));
    assert.equal(back.kind, kind);
    assert.deepEqual(back.classes, dec.classes);
    const { channels: C, samples: N } = X;
    for (const i of [0, 1, 2, 5]) {
      const x = trial(X, i);
      const a = dec.predictEpoch(x);
      assert.deepEqual(back.predictEpoch(x), a, `trial ${i}: restored decoder differs`);
      // the framer's layout: samples × channels, with older samples in front of the epoch
      const extra = 7;
      const w = new Float64Array((N + extra) * C);
      for (let t = 0; t < N; t++) for (let c = 0; c < C; c++) w[(t + extra) * C + c] = x[c * N + t]!;
      assert.deepEqual(dec.predict(w, N + extra, C), a, `trial ${i}: window form differs`);
      const p = Object.values(a.probs);
      assert.ok(Math.abs(p.reduce((s, v) => s + v, 0) - 1) < 1e-12 && a.confidence === Math.max(...p) && a.probs[a.label] === a.confidence);
      // a Float32 window (what the framer holds) gives the same label
      assert.equal(dec.predict(Float32Array.from(w), N + extra, C).label, a.label);
    }
    assert.throws(() => dec.predict(new Float64Array((N - 1) * C), N - 1, C), /window has \d+ samples, the decoder needs \d+ \(/);
    assert.throws(() => dec.predict(new Float64Array(N * (C + 1)), N, C + 1), /channels/);
  });
}

test('too few trials for a class: the error names the class', () => {
  const { X, y } = miSet();
  const keep = [...y.keys()].filter((i) => y[i] === 'left' || i === y.indexOf('right'));
  for (const kind of ['csp', 'fbcsp', 'ts-lr', 'mdm'] as const)
    assert.throws(() => createClassical(kind).fit(selectEpochs(X, keep), keep.map((i) => y[i]!)), /class 'right' has 1 trial; at least 2 are needed/, kind);
  assert.throws(() => createClassical('trca').fit(selectEpochs(ssX, [0, 1, 4, 5, 2]), ['8', '10', '8', '10', '12']), /class '12' has 1 trial/);
  assert.throws(() => createClassical('csp').fit(selectEpochs(X, keep.filter((i) => y[i] === 'left')), keep.filter((i) => y[i] === 'left').map(() => 'left')), /needs at least 2 classes, got 'left'/);
});

test('NaN input: the error names trial, channel and sample', () => {
  const { X, y } = miSet();
  const bad = { ...X, data: Float64Array.from(X.data) };
  bad.data[3 * X.channels * X.samples + 2 * X.samples + 17] = NaN;
  for (const kind of ['csp', 'ts-lr', 'mdm'] as const)
    assert.throws(() => createClassical(kind).fit(bad, y), new RegExp(`trial 3, channel 2 \\(${X.channelLabels![2]!.replace('.', '\\.')}\\) has a non-finite value \\(NaN\\) at sample 17`), kind);
  const dec = createClassical('ts-lr').fit(X, y);
  const x = Float64Array.from(trial(X, 0));
  x[5 * X.samples + 9] = Infinity;
  assert.throws(() => dec.predictEpoch(x), /channel 5 \(.+\) has a non-finite value \(Infinity\) at sample 9/);
});

test('singular covariances: flat or duplicated channels work with shrinkage, fail clearly with the sample covariance', () => {
  const { X, y } = miSet();
  const N = X.samples;
  const flat = { ...X, data: Float64Array.from(X.data) };
  const dup = { ...X, data: Float64Array.from(X.data) };
  for (let i = 0; i < X.trials; i++) {
    const o = i * X.channels * N;
    flat.data.fill(0, o + 4 * N, o + 5 * N);
    dup.data.copyWithin(o + 6 * N, o + 1 * N, o + 2 * N);
  }
  for (const kind of ['ts-lr', 'mdm'] as const) {
    for (const data of [flat, dup]) {
      const dec = createClassical(kind, { estimator: 'lwf' }).fit(data, y);
      assert.ok(dec.predictEpochs(data).every((d) => Number.isFinite(d.confidence)), `${kind} with shrinkage`);
      createClassical(kind, { estimator: 'oas' }).fit(data, y);
    }
    // a flat channel stays flat through the band filter; a duplicate stays a duplicate
    assert.throws(() => createClassical(kind, { estimator: 'scm', band: null }).fit(flat, y), new RegExp(`channel 4 \\(${X.channelLabels![4]!.replace('.', '\\.')}\\) is flat`), kind);
    assert.throws(() => createClassical(kind, { estimator: 'scm' }).fit(dup, y), new RegExp(`channels 1 \\(.+\\) and 6 \\(.+\\) are duplicates`), kind);
  }
  // CSP's composite covariance is singular for a flat channel: a clear error, not garbage filters
  assert.throws(() => createClassical('csp', { bands: null }).fit(flat, y), /CSP composite covariance is not positive definite/);
});

test('unknown decoder names and foreign profiles are refused', () => {
  assert.throws(() => createClassical('svm' as ClassicalKind), /unknown classical decoder 'svm'/);
  assert.throws(() => createClassical('cca'), /needs the stimulus frequencies/);
  assert.throws(() => classicalFromProfile({ kind: 'neurox-baseline-profile', version: 1 }), /not a neurox classical decoder profile/);
  assert.throws(() => classicalFromProfile({ kind: 'neurox-classical-profile', version: 1, decoder: 'nope' }), /unknown classical decoder 'nope'/);
});
