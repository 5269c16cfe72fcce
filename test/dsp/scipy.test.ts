/**
 * Known-answer tests against scipy.signal 1.10 (fixtures from scripts/gen-scipy-fixtures.py).
 *
 * "Relative" error of a vector = max|ours − scipy| / max|scipy| (an element-wise relative
 * error is meaningless for coefficients and samples that are 0 in exact arithmetic).
 * Float64 paths must agree within 1e-5; in practice they agree to ~1e-12.
 *
 * Float32 path tolerance: the SosFilter float32 path converts each float32 input exactly to
 * float64, runs the same float64 recurrence and rounds once per output sample. Fed the same
 * float32-rounded input as scipy, its output can differ from scipy's float64 result only by
 * that final rounding (≤ 2^-24 relative to each sample, plus ~1e-13 of float64 noise), so we
 * require |y32 − y_scipy| ≤ 2^-24·|y_scipy| + 1e-9·max|y| per sample.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  butterSos,
  iirnotch,
  notchSos,
  SosFilter,
  sosfiltZi,
  sosfiltfiltOffline,
  sosFreqz,
  Resampler,
  resampleFir,
  kaiserWindow,
  welch,
  dpss,
  type BType,
} from '../../src/dsp/index.ts';
import type { SignalChunk } from '../../src/types.ts';

const fx = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/scipy/${name}`, import.meta.url), 'utf8'));
const butter = fx('butter.json');
const notch = fx('notch.json');
const res = fx('resample.json');
const spec = fx('spectral.json');

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); m = Math.max(m, Math.abs(b[i]!)); }
  return m === 0 ? d : d / m;
}
const worst: Record<string, number> = {};
function check(name: string, a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  const e = relErr(a, b);
  worst[name] = Math.max(worst[name] ?? 0, e);
  assert.ok(e <= tol, `${name}: relative error ${e} > ${tol}`);
}

test('butter SOS designs match scipy section by section', () => {
  for (const d of butter.designs) {
    const sos = butterSos({ order: d.order, cutoff: d.cutoff, btype: d.btype as BType, fs: d.fs });
    assert.equal(sos.length, d.sos.length, `sections for ${JSON.stringify(d.cutoff)} ${d.btype} N=${d.order}`);
    // section by section, normalised by the largest coefficient of the section
    for (let s = 0; s < sos.length; s++) check('butter sections', sos[s]!, d.sos[s]);
    // and the overall response
    const freqs = Array.from({ length: 64 }, (_, i) => (i * d.fs) / 2 / 64);
    check('butter response', sosFreqz(sos, freqs, d.fs).mag, sosFreqz(d.sos, freqs, d.fs).mag);
  }
});

test('sosfilt (zero and steady initial state), float64 path', () => {
  const x = Float64Array.from(butter.x);
  for (const f of butter.filters) {
    const sos = butterSos({ order: f.order, cutoff: f.cutoff, btype: f.btype, fs: f.fs });
    check('sosfilt_zi', sosfiltZi(sos).flat(), f.zi.flat());
    const y0 = new SosFilter(sos, { init: 'zero' }).processF64(Float64Array.from(x), 1);
    check('sosfilt zero', y0, f.y_zero);
    const ys = new SosFilter(sos, { init: 'steady' }).processF64(Float64Array.from(x), 1);
    check('sosfilt steady', ys, f.y_steady);
    // in chunks, several channels (same data in each) → identical to scipy as well
    const filt = new SosFilter(sos, { init: 'zero' });
    const C = 3;
    const out: number[][] = [[], [], []];
    for (let o = 0; o < x.length; o += 97) {
      const n = Math.min(97, x.length - o);
      const blk = new Float64Array(n * C);
      for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) blk[i * C + c] = x[o + i]! * (c + 1);
      filt.processF64(blk, C);
      for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) out[c]!.push(blk[i * C + c]! / (c + 1));
    }
    for (let c = 0; c < C; c++) check('sosfilt chunked multichannel', out[c]!, f.y_zero);
  }
});

test('sosfilt float32 path is within one float32 rounding of scipy (fed the same float32 input)', () => {
  const x32 = Float32Array.from(butter.x);
  let worstUlps = 0;
  for (const f of butter.filters) {
    const sos = butterSos({ order: f.order, cutoff: f.cutoff, btype: f.btype, fs: f.fs });
    const chunk: SignalChunk = { kind: 'signal', stream: 's', data: x32, timestamps: new Float64Array(x32.length), channels: [{ label: 'a' }], srate: f.fs };
    const y = new SosFilter(sos, { init: 'zero' }).process(chunk).data;
    const ref: number[] = f.y_from_f32_input;
    const ymax = Math.max(...ref.map(Math.abs));
    for (let i = 0; i < ref.length; i++) {
      const tol = 2 ** -24 * Math.abs(ref[i]!) + 1e-9 * ymax;
      const d = Math.abs(y[i]! - ref[i]!);
      assert.ok(d <= tol, `float32 sample ${i}: |${y[i]} − ${ref[i]}| = ${d} > ${tol}`);
      if (ref[i] !== 0) worstUlps = Math.max(worstUlps, d / (2 ** -24 * Math.abs(ref[i]!)));
    }
  }
  process.stdout.write(`# float32 sosfilt: worst error ${worstUlps.toFixed(3)} × 2^-24 relative\n`);
});

test('sosfiltfilt (offline zero-phase) matches scipy', () => {
  const x = Float64Array.from(butter.x);
  for (const f of butter.filters) {
    check('sosfiltfilt', sosfiltfiltOffline(f.sos, x, 1), f.y_filtfilt);
  }
});

test('iirnotch coefficients and harmonic notch cascade output', () => {
  for (const c of notch.cases) {
    const [b, a] = iirnotch(c.f0, c.Q, c.fs);
    check('iirnotch b', b, c.b);
    check('iirnotch a', a, c.a);
  }
  const h = notch.harmonics;
  const sos = notchSos({ freq: h.freq, Q: h.Q, fs: h.fs });
  assert.deepEqual(sos.map((r) => r[0]).length, h.freqs.length);
  for (let s = 0; s < sos.length; s++) check('notch harmonics sos', sos[s]!, h.sos[s]);
  const y = new SosFilter(sos, { init: 'zero' }).processF64(Float64Array.from(h.x), 1);
  check('notch harmonics sosfilt', y, h.y);
});

test('Kaiser window and resample_poly default design', () => {
  check('kaiser', kaiserWindow(res.kaiser.M, res.kaiser.beta), res.kaiser.w);
  for (const c of res.cases) check('firwin kaiser 5', resampleFir(c.up, c.down, { design: 'scipy' }), c.h);
  for (const c of res.antialias) check('firwin kaiserord', resampleFir(c.up, c.down), c.h);
});

/** Run the streaming resampler on x in chunks of `chunk` samples; returns its float64-accurate outputs. */
function streamResample(x: number[], up: number, down: number, design: 'scipy' | 'antialias', chunk: number): { y: number[]; delay: number } {
  // feed in float64-valued channels through the float32 chunk API? No: use a scaled copy so the
  // float32 input is exact — x is rounded to float32 first and the same rounded x goes to the check.
  const fsIn = 1000 * down, fsOut = 1000 * up;
  const r = new Resampler({ fsIn, fsOut, design });
  const y: number[] = [];
  for (let o = 0; o < x.length; o += chunk) {
    const part = x.slice(o, o + chunk);
    const c: SignalChunk = { kind: 'signal', stream: 's', data: Float32Array.from(part), timestamps: Float64Array.from(part.map((_, i) => (o + i) / fsIn)), channels: [{ label: 'a' }], srate: fsIn };
    const out = r.process(c);
    if (out) y.push(...out.data);
  }
  return { y, delay: r.delaySamples };
}

test('streaming resampler (float64 path) = resample_poly output delayed by floor(halfLen/down) samples', () => {
  const x = Float64Array.from(res.x);
  for (const c of res.cases) {
    for (const chunk of [1, 7, 1500]) {
      const r = new Resampler({ fsIn: 1000 * c.down, fsOut: 1000 * c.up, design: 'scipy' });
      const y: number[] = [];
      for (let o = 0; o < x.length; o += chunk) y.push(...r.processF64(x.subarray(o, o + chunk), 1));
      const delay = r.delaySamples;
      assert.equal(delay, Math.floor((10 * Math.max(c.up, c.down)) / c.down));
      const m = Math.min(y.length - delay, c.y.length);
      assert.ok(m > c.y.length * 0.9, `too few outputs ${m}`);
      check('resample_poly (scipy design, float64)', y.slice(delay, delay + m), c.y.slice(0, m));
    }
  }
  for (const c of res.antialias) {
    const r = new Resampler({ fsIn: 1000 * c.down, fsOut: 1000 * c.up });
    const y = Array.from(r.processF64(x, 1));
    const delay = r.delaySamples;
    const m = Math.min(y.length - delay, c.y.length);
    check('resample_poly (antialias design = window=h, float64)', y.slice(delay, delay + m), c.y.slice(0, m));
  }
});

test('streaming resampler float32 chunk path within float32 rounding of resample_poly', () => {
  // Input rounding (2^-24) through an FIR with sum|h| ≈ 1.1·up plus output rounding: ≤ ~3e-7 relative.
  for (const c of res.cases) {
    for (const chunk of [1, 7, 1500]) {
      const { y, delay } = streamResample(res.x, c.up, c.down, 'scipy', chunk);
      const m = Math.min(y.length - delay, c.y.length);
      check('resample_poly (scipy design, float32 I/O)', y.slice(delay, delay + m), c.y.slice(0, m), 1e-6);
    }
  }
});

test('Welch PSD matches scipy.signal.welch', () => {
  for (const c of spec.welch) {
    const x = spec.x.slice(0, c.n);
    const { f, pxx } = welch(x, { fs: c.fs, nperseg: c.nperseg, noverlap: c.noverlap ?? undefined, nfft: c.nfft ?? undefined });
    check('welch f', f, c.f);
    check('welch pxx', pxx, c.pxx);
  }
});

test('DPSS tapers match scipy.signal.windows.dpss', () => {
  for (const c of spec.dpss) {
    const t = dpss(c.M, c.NW, c.K);
    for (let k = 0; k < c.K; k++) check('dpss', t[k]!, c.tapers[k]);
  }
});

test('report worst relative errors', () => {
  process.stdout.write(`# worst relative errors vs scipy: ${JSON.stringify(Object.fromEntries(Object.entries(worst).map(([k, v]) => [k, Number(v.toExponential(2))])))}\n`);
});
