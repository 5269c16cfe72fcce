/**
 * Riemannian building blocks against known answers from scikit-learn (LedoitWolf, OAS,
 * empirical covariance) and numpy/scipy transcriptions of pyRiemann's published steps
 * (scripts/gen-decoder-fixtures.py), on covariances of real EEGMMIDB epochs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ledoitWolfCovariance, oasCovariance, sampleCovariance, covariance } from '../../src/decode/riemann/covariance.ts';
import { distanceRiemann, expm, expMap, geneigh, karcherMean, logm, logMap, sqrtm, invsqrtm, matmul } from '../../src/decode/riemann/spd.ts';
import { recentre, tangentSpace, untangentSpace, upper, unupper } from '../../src/decode/riemann/tangent.ts';
import { sosfiltRows, bandSos } from '../../src/decode/filterbank.ts';
import { trial } from '../../src/decode/epochs.ts';
import { decoderFixture, loadRun } from './eegmmidb-epochs.ts';

const fx = decoderFixture('riemann.json');
const flat2 = (m: number[][]): Float64Array => Float64Array.from(m.flat());

function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < b.length; i++) {
    const err = Math.abs(a[i]! - b[i]!);
    if (err > rtol * scale) assert.fail(`${what}[${i}]: ${a[i]} vs ${b[i]} (|err| ${err.toExponential(2)} > ${rtol} × ${scale.toExponential(2)})`);
  }
}

/** The 8 sensorimotor channels of the fixture, band-passed 8–30 Hz per epoch, from our own EDF path. */
function pickedCovs(run: number): Float64Array[] {
  const { epochs } = loadRun(run);
  const idx = (fx.channels as string[]).map((c) => epochs.channelLabels!.indexOf(c));
  const sos = bandSos([8, 30], epochs.srate);
  const N = epochs.samples;
  return Array.from({ length: epochs.trials }, (_, i) => {
    const t = trial(epochs, i);
    const x = new Float64Array(idx.length * N);
    idx.forEach((c, k) => x.set(t.subarray(c * N, (c + 1) * N), k * N));
    return ledoitWolfCovariance(sosfiltRows(sos, x, idx.length, N), idx.length, N).cov;
  });
}

test('covariances equal scikit-learn empirical_covariance, LedoitWolf and OAS', () => {
  const x = flat2(fx.epoch);
  const C = fx.channels.length;
  const N = x.length / C;
  assertClose(sampleCovariance(x, C, N), flat2(fx.empirical), 1e-12, 'empirical');
  const lw = ledoitWolfCovariance(x, C, N);
  assertClose(lw.cov, flat2(fx.ledoit_wolf.cov), 1e-12, 'Ledoit–Wolf');
  assert.ok(Math.abs(lw.shrinkage - fx.ledoit_wolf.shrinkage) < 1e-12, `LW shrinkage ${lw.shrinkage} vs ${fx.ledoit_wolf.shrinkage}`);
  const o = oasCovariance(x, C, N);
  assertClose(o.cov, flat2(fx.oas.cov), 1e-12, 'OAS');
  assert.ok(Math.abs(o.shrinkage - fx.oas.shrinkage) < 1e-12, `OAS shrinkage ${o.shrinkage} vs ${fx.oas.shrinkage}`);
});

test('shrinkage handles flat and duplicated channels; the sample covariance names them', () => {
  const C = fx.channels.length;
  for (const [name, labelOf] of [['flat', 'channel 2 (C4..) is flat'], ['duplicate', 'channels 4 (Fc4.) and 5 (Cp3.) are duplicates']] as const) {
    const x = flat2(fx[name].epoch);
    const N = x.length / C;
    assertClose(covariance(x, C, N, 'lwf'), flat2(fx[name].lw), 1e-12, `${name} LW`);
    assertClose(covariance(x, C, N, 'oas'), flat2(fx[name].oas), 1e-12, `${name} OAS`);
    assert.throws(() => covariance(x, C, N, 'scm', fx.channels), (e: Error) => e.message.includes(labelOf), `${name}: error names the channel`);
  }
  // rank deficiency that no single pair shows: channel 7 = channel 0 + channel 1
  const x = flat2(fx.epoch);
  const N = x.length / C;
  for (let t = 0; t < N; t++) x[7 * N + t] = x[t]! + x[N + t]!;
  assert.throws(() => sampleCovariance(x, C, N), /channel 7 is a linear combination/);
});

test('our EDF path gives the reference covariances of every EEGMMIDB R03/R04 epoch', () => {
  pickedCovs(3).forEach((S, i) => assertClose(S, flat2(fx.covs_train[i]), 1e-9, `R03 trial ${i}`));
  pickedCovs(4).forEach((S, i) => assertClose(S, flat2(fx.covs_test[i]), 1e-9, `R04 trial ${i}`));
});

test('Karcher mean, tangent vectors, distances, log map and recentring match the reference', () => {
  const train = (fx.covs_train as number[][][]).map(flat2);
  const testCovs = (fx.covs_test as number[][][]).map(flat2);
  const k = karcherMean(train);
  assert.equal(k.iterations, fx.karcher.iterations);
  assertClose(k.mean, flat2(fx.karcher.mean), 1e-10, 'Karcher mean');
  const M = flat2(fx.karcher.mean);
  tangentSpace(testCovs, M).forEach((v, i) => assertClose(v, fx.tangent_test[i], 1e-9, `tangent vector ${i}`));
  testCovs.forEach((S, i) => assert.ok(Math.abs(distanceRiemann(M, S) - fx.distances_test[i]) < 1e-10, `distance ${i}`));
  assertClose(logMap(testCovs[0]!, M), flat2(fx.logmap), 1e-9, 'log map');
  assertClose(sqrtm(M), flat2(fx.sqrtm), 1e-11, 'sqrtm');
  assertClose(logm(M), flat2(fx.logm), 1e-11, 'logm');
  assertClose(expm(logm(M)), flat2(fx.expm_of_logm), 1e-11, 'expm(logm)');
  const rc = recentre(testCovs);
  rc.covs.forEach((S, i) => assertClose(S, flat2(fx.recentred_test[i]), 1e-9, `recentred ${i}`));
  // after recentring the session mean is the identity
  const again = karcherMean(rc.covs).mean;
  assertClose(again, Float64Array.from({ length: 64 }, (_, i) => (i % 9 === 0 ? 1 : 0)), 1e-7, 'recentred mean');
});

test('tangent map properties: norm = distance, exp∘log = id, vectorisation round-trips', () => {
  const train = (fx.covs_train as number[][][]).map(flat2);
  const M = karcherMean(train).mean;
  const [v] = tangentSpace([train[3]!], M);
  const norm = Math.sqrt(v!.reduce((a, x) => a + x * x, 0));
  assert.ok(Math.abs(norm - distanceRiemann(M, train[3]!)) < 1e-10, 'tangent norm equals the Riemannian distance');
  assertClose(untangentSpace(v!, M), train[3]!, 1e-10, 'untangent');
  assertClose(expMap(logMap(train[5]!, M), M), train[5]!, 1e-10, 'exp(log)');
  const T = logm(train[2]!);
  assertClose(unupper(upper(T), 8), T, 1e-15, 'unupper(upper)');
  assertClose(matmul(invsqrtm(M), matmul(M, invsqrtm(M))), Float64Array.from({ length: 64 }, (_, i) => (i % 9 === 0 ? 1 : 0)), 1e-10, 'M^-1/2 M M^-1/2');
  // generalised eigenvectors are B-orthonormal and solve A w = λ B w
  const A = train[0]!, B = train[1]!;
  const e = geneigh(A, B, 8);
  const W = e.vectors;
  for (let k = 0; k < 8; k++) {
    const w = Array.from({ length: 8 }, (_, i) => W[i * 8 + k]!);
    const Aw = Array.from({ length: 8 }, (_, i) => w.reduce((s, x, j) => s + A[i * 8 + j]! * x, 0));
    const Bw = Array.from({ length: 8 }, (_, i) => w.reduce((s, x, j) => s + B[i * 8 + j]! * x, 0));
    assertClose(Aw, Bw.map((x) => e.values[k]! * x), 1e-10, `A w = λ B w (${k})`);
    assert.ok(Math.abs(w.reduce((s, x, i) => s + x * Bw[i]!, 0) - 1) < 1e-10, 'wᵀ B w = 1');
  }
});
