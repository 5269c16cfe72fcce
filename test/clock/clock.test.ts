import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClockCorrector, Dejitter, OffsetTracker, monotonize } from '../../src/clock/index.ts';
import type { Chunk, SignalChunk } from '../../src/types.ts';
import { rng } from '../helpers/rng.ts';

/** True timestamps of a device whose clock runs `ppm` fast, plus Gaussian jitter. */
function stamps(n: number, srate: number, ppm: number, jitterSd: number, t0: number, seed: number) {
  const r = rng(seed);
  const truth = new Float64Array(n);
  const noisy = new Float64Array(n);
  const period = (1 / srate) * (1 + ppm * 1e-6);
  for (let i = 0; i < n; i++) {
    truth[i] = t0 + i * period;
    noisy[i] = truth[i]! + jitterSd * r.normal();
  }
  return { truth, noisy, period };
}

function rms(a: Float64Array, b: Float64Array, from: number): number {
  let s = 0;
  for (let i = from; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s / (a.length - from));
}

test('dejitter recovers the true sample period and removes most jitter', () => {
  const srate = 500;
  const { truth, noisy, period } = stamps(srate * 120, srate, 80, 0.002, 1000, 1);
  const dj = new Dejitter(srate, { halfTime: 20 });
  const out = new Float64Array(noisy);
  // Fed in uneven chunks, as an inlet delivers them.
  for (let i = 0; i < out.length; ) {
    const n = 1 + ((i * 7919) % 37);
    dj.process(out.subarray(i, Math.min(out.length, i + n)));
    i += n;
  }
  const st = dj.state();
  const before = rms(noisy, truth, srate * 30);
  const after = rms(out, truth, srate * 30);
  process.stdout.write(`# dejitter: period err ${((st.period - period) / period * 1e6).toFixed(2)} ppm, jitter rms ${(before * 1e3).toFixed(3)} ms -> ${(after * 1e3).toFixed(3)} ms, est jitter ${(st.jitter * 1e3).toFixed(3)} ms\n`);
  assert.ok(Math.abs(st.period - period) / period < 5e-6, 'sample period within 5 ppm');
  assert.ok(after < before / 10, `residual jitter ${after} not < 1/10 of ${before}`);
  assert.ok(Math.abs(st.jitter - 0.002) < 0.0005, `jitter estimate ${st.jitter}`);
});

test('dejitter is robust to late-delivery outliers', () => {
  const srate = 250;
  const { truth, noisy } = stamps(srate * 60, srate, 0, 0.0005, 50, 2);
  const r = rng(3);
  for (let i = 0; i < noisy.length; i++) if (r.uniform() < 0.02) noisy[i]! += 0.05 + 0.1 * r.uniform();
  const dj = new Dejitter(srate, { halfTime: 10 });
  const out = dj.process(new Float64Array(noisy));
  assert.ok(rms(out, truth, srate * 20) < 0.0005, `outliers bent the fit: rms ${rms(out, truth, srate * 20)}`);
});

test('dejitter stays exact over a 4-hour index range (rebasing)', () => {
  const srate = 2048;
  const dj = new Dejitter(srate, { halfTime: 5 });
  const n = srate * 3600 * 4;
  const block = new Float64Array(4096);
  let worst = 0;
  for (let i = 0; i < n; i += block.length) {
    for (let k = 0; k < block.length; k++) block[k] = 12345.678 + (i + k) / srate;
    const exp0 = block[0]!;
    dj.process(block);
    if (i > srate * 10) worst = Math.max(worst, Math.abs(block[0]! - exp0));
  }
  assert.ok(worst < 1e-7, `drifted by ${worst} s`);
});

test('offset tracker takes the median and detects a reset', () => {
  const t = new OffsetTracker(5, 1.0);
  for (const o of [0.010, 0.011, 0.5, 0.009, 0.010]) assert.equal(t.add(o), false);
  assert.equal(t.value, 0.010);
  assert.equal(t.add(100.01), true);
  assert.equal(t.value, 100.01);
});

test('monotonize clamps backward steps', () => {
  const ts = new Float64Array([1, 2, 1.5, 3, 2.9]);
  assert.equal(monotonize(ts, 0), 2);
  assert.deepEqual([...ts], [1, 2, 2, 3, 3]);
});

test('clock stage applies offsets, dejitters, and turns a backward jump into a clock-reset gap', () => {
  const cc = new ClockCorrector({ dejitter: { halfTime: 5 } });
  const srate = 100;
  const channels = [{ label: 'a' }];
  const mk = (t0: number, n: number): SignalChunk => ({
    kind: 'signal', stream: 's', srate, channels, data: new Float32Array(n),
    timestamps: Float64Array.from({ length: n }, (_, i) => t0 + i / srate),
  });
  cc.process({ kind: 'clock', stream: 's', collectedAt: 0, offset: 2.5 });
  const out1 = cc.process(mk(10, 200)) as SignalChunk[];
  assert.ok(Math.abs(out1[0]!.timestamps[199]! - (10 + 199 / srate + 2.5)) < 1e-9);
  const out2: Chunk[] = cc.process(mk(3, 50));
  assert.equal(out2[0]!.kind, 'gap');
  assert.equal((out2[0] as { reason: string }).reason, 'clock-reset');
  const sig = out2[1] as SignalChunk;
  assert.ok(Math.abs(sig.timestamps[0]! - 5.5) < 1e-9, `after reset the fit restarts: ${sig.timestamps[0]}`);
});
